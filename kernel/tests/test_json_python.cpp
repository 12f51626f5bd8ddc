#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <pybind11/embed.h>

#include "core/json_python.hpp"

namespace xaccel
{
    namespace py = pybind11;

    TEST(json_python, round_trip_of_nested_values)
    {
        nl::json value = {{"text", "héllo ✓"},
                          {"int", -42},
                          {"big", 1ULL << 62},
                          {"float", 2.5},
                          {"flag", true},
                          {"none", nullptr},
                          {"list", {1, "two", {{"three", 3}}}}};
        EXPECT_EQ(to_json(to_python(value)), value);
    }

    TEST(json_python, python_only_values_become_json)
    {
        py::dict d = py::eval("{'t': (1, 2), 'nan': float('nan'), 'huge': 10**30, 'b': b'abc', "
                              "'set': {1}, 3: 'int key', 's': '\\ud800x'}")
                         .cast<py::dict>();
        nl::json j = to_json(d);
        EXPECT_EQ(j["t"], nl::json::array({1, 2}));
        EXPECT_TRUE(j["nan"].is_null());
        EXPECT_EQ(j["huge"], "1000000000000000000000000000000");
        EXPECT_EQ(j["b"], "abc");
        EXPECT_EQ(j["set"], "{1}");
        EXPECT_EQ(j["3"], "int key");
        // A lone surrogate cannot be UTF-8: it is replaced, never an error.
        EXPECT_EQ(j["s"], "?x");
    }
}
