// Compiles the precompiled header that every test binary shares (tests/CMakeLists.txt).
