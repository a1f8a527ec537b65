# Installing and packaging normrt (included by the top-level CMakeLists.txt).
#   cmake --install: headers, libnormrt (shared, soname libnormrt.so.<major>, and
#     static), the normrt CLI, a CMake package (find_package(normrt) →
#     normrt::normrt and normrt::normrt_static) and a pkg-config file (normrt.pc).
#   cpack -G DEB: one Debian package, `normrt`, holding all of that under /usr;
#     its dependencies are the Debian packages libnormrt links to (dpkg-shlibdeps)
#     and the -dev packages whose headers and CMake files the installed ones use.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
install(TARGETS normrt normrt_shared normrt_cli EXPORT normrtTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/normrt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT normrtTargets NAMESPACE normrt:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/normrt)
configure_package_config_file(cmake/normrtConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/normrtConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/normrt)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/normrtConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/normrtConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/normrtConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/normrt)

# pkg-config: the prefix is found from the .pc file's own place (${pcfiledir}),
# so the file is right wherever the tree is installed or unpacked.
file(RELATIVE_PATH NORMRT_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" NORMRT_PC_TO_PREFIX "${NORMRT_PC_TO_PREFIX}")
configure_file(cmake/normrt.pc.in ${CMAKE_CURRENT_BINARY_DIR}/normrt.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/normrt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME normrt)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "normrt developers <normrt@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "CPU inference runtime for ONNX models (normalization-heavy networks)")
set(CPACK_PACKAGE_DESCRIPTION "normrt loads ONNX models, optimizes them (normalization and attention fusions, \
BatchNorm folded into Conv) and runs them on a oneTBB executor with vectorized kernels. This package holds the \
shared and static libraries, the C and C++ headers, the CMake and pkg-config files and the normrt command-line tool.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libtbb-dev, libprotobuf-dev, libonnx-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3, python3-numpy")  # for the Python package
include(CPack)
