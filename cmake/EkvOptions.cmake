# Build options shared by every ekv target.
option(EKV_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(EKV_CORE_ONLY "Build only core/, sim/, their tests and fuzzers (fast sanitizer build)" OFF)
option(EKV_FUZZ "Build libFuzzer targets (requires clang)" OFF)
option(EKV_UNITY_BUILD "Compile the libraries listed in CMakeLists.txt as unity builds (faster from scratch, slower to rebuild one file)" OFF)

find_program(EKV_CCACHE ccache)
if(EKV_CCACHE)
  # The test binaries' precompiled headers are cacheable only with this sloppiness (ccache
  # manual, "Precompiled headers"); CMake passes them with -include and a full path.
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros
      ${EKV_CCACHE})
endif()

# lld links a test binary about 3x faster than GNU ld, and there are ~170 of them.
include(CheckLinkerFlag)
check_linker_flag(CXX -fuse-ld=lld EKV_HAS_LLD)
if(EKV_HAS_LLD)
  add_link_options(-fuse-ld=lld)
endif()

# Warnings are errors on our own code only; third-party headers come in as SYSTEM.
set(EKV_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)

if(EKV_SANITIZE)
  # Sanitizer reports need only file:line; -gline-tables-only compiles faster than -g.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
                      -gline-tables-only)
  add_link_options(-fsanitize=address,undefined)
endif()

# ekv_target_defaults(<target>): apply our warning set and include root.
function(ekv_target_defaults target)
  target_compile_options(${target} PRIVATE ${EKV_WARNINGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# ekv_folder_library(<name> <subdir> [DEPS <libs...>]): one static library from the .cc
# files of one folder (tests, benchmarks and main.cc excluded). A sibling ekv_* library
# that has no sources (and so no target) is skipped rather than linked by name; one that
# is not defined yet is an error (define libraries before their dependents).
function(ekv_folder_library name subdir)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${subdir}/*.cc)
  list(FILTER sources EXCLUDE REGEX "(_test|_bench|/main)\\.cc$")
  if(NOT sources)
    # A folder with no sources yet has no target; its dependents skip it (below).
    set_property(GLOBAL APPEND PROPERTY EKV_EMPTY_LIBRARIES ${name})
    return()
  endif()
  get_property(empty_libraries GLOBAL PROPERTY EKV_EMPTY_LIBRARIES)
  set(deps)
  foreach(dep ${ARG_DEPS})
    if(TARGET ${dep} OR NOT dep MATCHES "^ekv_")
      list(APPEND deps ${dep})
    elseif(NOT dep IN_LIST empty_libraries)
      # Dropping it silently would leave ${name}'s users with link errors far from here.
      message(FATAL_ERROR "ekv_folder_library(${name}): dependency ${dep} is not defined "
                          "yet; define it before ${name}")
    endif()
  endforeach()
  add_library(${name} STATIC ${sources})
  ekv_target_defaults(${name})
  target_link_libraries(${name} PUBLIC ${deps})
  set_property(GLOBAL APPEND PROPERTY EKV_LIBRARIES ${name})
endfunction()

# ekv_unity_build(<targets...>): with EKV_UNITY_BUILD, compile each existing target's files
# combined, a few per unit (the core-only build lacks some of them).
function(ekv_unity_build)
  if(NOT EKV_UNITY_BUILD)
    return()
  endif()
  foreach(target ${ARGN})
    if(TARGET ${target})
      set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    endif()
  endforeach()
endfunction()
