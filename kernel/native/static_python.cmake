# The kernel executable links CPython statically, as Debian's python3.11
# binary does (libpython3.11.a: built with PGO, not position-independent),
# instead of libpython3.11.so: bytecode runs faster (no PIC indirections nor
# semantic interposition), start-up skips the shared library's relocations,
# and RSS is lower. Extension modules (lib-dynload, numpy, ...) find the C
# API in the executable (--export-dynamic), as in python3.11.
# -DXACCEL_STATIC_PYTHON=OFF (and sanitizer builds) keep the shared library.
option(XACCEL_STATIC_PYTHON "Link the kernel executable with libpython's static archive" ON)

find_package(Threads REQUIRED)
set(XACCEL_PYTHON_ARCHIVE "")
if(XACCEL_STATIC_PYTHON AND NOT XACCEL_SANITIZE)
    execute_process(
        COMMAND ${Python3_EXECUTABLE} -c
                "import sysconfig as s; print(s.get_config_var('LIBPL') + '/' + s.get_config_var('LIBRARY'))"
        OUTPUT_VARIABLE _xaccel_archive OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(EXISTS "${_xaccel_archive}")
        set(XACCEL_PYTHON_ARCHIVE "${_xaccel_archive}")
        message(STATUS "xaccel: the kernel links CPython statically (${XACCEL_PYTHON_ARCHIVE})")
    else()
        message(STATUS "xaccel: no static libpython (${_xaccel_archive}): the kernel links the shared one")
    endif()
endif()

function(xaccel_link_static_python target)
    if(NOT XACCEL_PYTHON_ARCHIVE)
        return()
    endif()
    # The whole archive: extension modules may use any part of the C API.
    # The system libraries are those of python3.11's own link (LIBS, MODLIBS).
    target_link_libraries(${target} PRIVATE -Wl,--whole-archive ${XACCEL_PYTHON_ARCHIVE} -Wl,--no-whole-archive
                          m z expat ${CMAKE_DL_LIBS} util Threads::Threads)
    # Not position-independent code; symbols visible to extension modules.
    target_link_options(${target} PRIVATE -no-pie -Wl,--export-dynamic)
endfunction()
