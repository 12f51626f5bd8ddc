#include <string>

#include <gtest/gtest.h>
#include <pybind11/embed.h>

#include "core/json_python.hpp"

namespace xaccel
{
    namespace py = pybind11;

    namespace
    {
        py::object eval(const char* code)
        {
            py::dict scope;
            py::exec(code, scope);
            return scope["value"];
        }

        // The message of the exception to_json() raises, or "" if none.
        template <class Error>
        std::string refusal(const char* code)
        {
            py::object value = eval(code);
            try
            {
                to_json(value);
            }
            catch (const Error& e)
            {
                return e.what();
            }
            return "";
        }

        bool contains(const std::string& text, const std::string& part)
        {
            return text.find(part) != std::string::npos;
        }
    }

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

    TEST(json_python, python_values_become_what_ipykernel_sends)
    {
        nl::json j = to_json(eval("import datetime\n"
                                  "value = {'t': (1, 2), 'huge': 10**30, 'b': b'abc', 'set': {1}, 'fs': frozenset([2]),\n"
                                  "         'gen': (i for i in range(3)), 'r': range(2), 'ba': bytearray(b'AB'),\n"
                                  "         'd': datetime.date(2020, 1, 2),\n"
                                  "         'dt': datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),\n"
                                  "         3: 'int key', 2.5: 'float key', True: 'bool key', None: 'none key',\n"
                                  "         's': '\\ud800x'}"));
        EXPECT_EQ(j["t"], nl::json::array({1, 2}));
        EXPECT_EQ(j["huge"], "1000000000000000000000000000000");
        EXPECT_EQ(j["b"], "YWJj"); // base64, as jupyter_client's json_default
        EXPECT_EQ(j["set"], nl::json::array({1}));
        EXPECT_EQ(j["fs"], nl::json::array({2}));
        EXPECT_EQ(j["gen"], nl::json::array({0, 1, 2}));
        EXPECT_EQ(j["r"], nl::json::array({0, 1}));
        EXPECT_EQ(j["ba"], nl::json::array({65, 66}));
        EXPECT_EQ(j["d"], "2020-01-02");
        EXPECT_EQ(j["dt"], "2020-01-02T03:04:05Z");
        EXPECT_EQ(j["3"], "int key");
        EXPECT_EQ(j["2.5"], "float key");
        EXPECT_EQ(j["true"], "bool key");
        EXPECT_EQ(j["null"], "none key");
        // A lone surrogate cannot be UTF-8: it is replaced, never an error.
        EXPECT_EQ(j["s"], "?x");
    }

    TEST(json_python, numbers_protocol_objects_become_numbers)
    {
        nl::json j = to_json(eval("import fractions, decimal\n"
                                  "class Count:\n"
                                  "    def __index__(self): return 7\n"
                                  "    def __int__(self): return 7\n"
                                  "import numbers\n"
                                  "numbers.Integral.register(Count)\n"
                                  "value = [Count(), fractions.Fraction(1, 4)]"));
        EXPECT_EQ(j, nl::json::array({7, 0.25}));
    }

    TEST(json_python, a_cycle_is_a_value_error_naming_where)
    {
        std::string msg = refusal<py::value_error>("d = {}\nd['self'] = d\nvalue = {'data': {'application/json': d}}");
        EXPECT_TRUE(contains(msg, "contains itself")) << msg;
        EXPECT_TRUE(contains(msg, "['data']['application/json']['self']")) << msg;

        msg = refusal<py::value_error>("l = [1, 2]\nl.append(l)\nvalue = l");
        EXPECT_TRUE(contains(msg, "contains itself")) << msg;
        EXPECT_TRUE(contains(msg, "[2]")) << msg;
    }

    TEST(json_python, a_value_shared_without_a_cycle_is_fine)
    {
        nl::json j = to_json(eval("shared = [1]\nvalue = {'a': shared, 'b': [shared, shared]}"));
        EXPECT_EQ(j, (nl::json{{"a", {1}}, {"b", {{1}, {1}}}}));
    }

    TEST(json_python, depth_is_bounded)
    {
        std::string msg = refusal<py::value_error>("value = []\nfor _ in range(100000): value = [value]");
        EXPECT_TRUE(contains(msg, "nested more than 1000 levels deep")) << msg;

        // Exactly at the bound: accepted (the outermost list is level 1).
        std::string build = "value = []\nfor _ in range(" + std::to_string(max_json_depth - 1) + "): value = [value]";
        nl::json j = to_json(eval(build.c_str()));
        std::size_t depth = 1;
        for (const nl::json* p = &j; !p->empty(); p = &(*p)[0])
        {
            ++depth;
        }
        EXPECT_EQ(depth, max_json_depth);
        build = "value = []\nfor _ in range(" + std::to_string(max_json_depth) + "): value = {'k': value}";
        EXPECT_TRUE(contains(refusal<py::value_error>(build.c_str()), "levels deep"));
    }

    TEST(json_python, keys_json_cannot_carry_are_refused)
    {
        std::string msg = refusal<py::type_error>("value = {'outer': {(1, 2): 'a'}}");
        EXPECT_TRUE(contains(msg, "keys must be str, int, float, bool or None, not tuple")) << msg;
        EXPECT_TRUE(contains(msg, "['outer']")) << msg;

        msg = refusal<py::value_error>("value = {1: 'a', '1': 'b'}");
        EXPECT_TRUE(contains(msg, "same JSON key '1'")) << msg;

        EXPECT_TRUE(contains(refusal<py::value_error>("value = {float('nan'): 1}"), "NaN"));
    }

    TEST(json_python, nan_and_infinity_are_refused)
    {
        std::string msg = refusal<py::value_error>("value = {'x': [1.0, float('nan')]}");
        EXPECT_TRUE(contains(msg, "JSON has no NaN")) << msg;
        EXPECT_TRUE(contains(msg, "['x'][1]")) << msg;
        EXPECT_TRUE(contains(refusal<py::value_error>("value = float('-inf')"), "infinity"));
    }

    TEST(json_python, objects_without_a_json_form_are_refused)
    {
        std::string msg = refusal<py::type_error>("class Thing: pass\nvalue = {'t': Thing()}");
        EXPECT_TRUE(contains(msg, "type Thing has no JSON form")) << msg;
    }

    TEST(json_python, an_exception_from_user_code_propagates)
    {
        py::object value = eval("class Bad:\n"
                                "    def __iter__(self): raise RuntimeError('no iteration')\n"
                                "value = [Bad()]");
        EXPECT_THROW(to_json(value), py::error_already_set);
    }

    TEST(json_python, deep_json_becomes_python_without_recursion)
    {
        nl::json deep = nl::json::array();
        for (int i = 0; i < 100000; ++i)
        {
            nl::json outer = nl::json::array();
            outer.push_back(std::move(deep));
            deep = std::move(outer);
        }
        py::object value = to_python(deep);
        py::dict scope;
        scope["value"] = value;
        py::exec("depth = 0\n"
                 "while value:\n"
                 "    value = value[0]\n"
                 "    depth += 1\n",
                 scope);
        EXPECT_EQ(scope["depth"].cast<int>(), 100000);
    }
}
