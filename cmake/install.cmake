# What `cmake --install build [--prefix P]` puts where, and the Debian
# packages `cpack` makes from the same rules (docs/operations.md,
# "Installing"):
#   component runtime (package granary):
#     bin/                  granary, granary-metad, granary-chunkd, granary-fuse
#     lib/systemd/system/   granary-metad.service, granary-chunkd.service
#     share/granary/        example metad.toml and chunkd.toml for /etc/granary
#     the Python module     (client/python/CMakeLists.txt)
#   component dev (package libgranary-dev):
#     lib/                  libgranary.so
#     include/              granary/*.h and the common/ headers they include
#     lib/cmake/Granary/    find_package(Granary) -> Granary::granary

install(TARGETS granary granary-metad granary-chunkd granary-fuse
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

# The units name the binaries by the prefix given at install time (which
# `cmake --install --prefix` and cpack set), not the one configured.
foreach(unit granary-metad granary-chunkd)
  install(CODE "
    file(READ \"${CMAKE_SOURCE_DIR}/deploy/systemd/${unit}.service.in\" text)
    string(REPLACE \"@BINDIR@\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\" text \"\${text}\")
    file(WRITE \"${CMAKE_BINARY_DIR}/deploy/${unit}.service\" \"\${text}\")
    file(INSTALL \"${CMAKE_BINARY_DIR}/deploy/${unit}.service\"
         DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  " COMPONENT runtime)
endforeach()
install(FILES deploy/config/metad.toml deploy/config/chunkd.toml
  DESTINATION ${CMAKE_INSTALL_DATADIR}/granary COMPONENT runtime)

install(TARGETS granary_shared EXPORT GranaryTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY client/include/granary DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES common/status.h common/buffer.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/common COMPONENT dev)
install(FILES ${CMAKE_BINARY_DIR}/common/proto/granary.pb.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/common/proto COMPONENT dev)
set(GRANARY_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Granary)
install(EXPORT GranaryTargets NAMESPACE Granary:: DESTINATION ${GRANARY_CMAKE_DIR} COMPONENT dev)
include(CMakePackageConfigHelpers)
configure_package_config_file(cmake/GranaryConfig.cmake.in
  ${CMAKE_BINARY_DIR}/GranaryConfig.cmake INSTALL_DESTINATION ${GRANARY_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/GranaryConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/GranaryConfig.cmake ${CMAKE_BINARY_DIR}/GranaryConfigVersion.cmake
  DESTINATION ${GRANARY_CMAKE_DIR} COMPONENT dev)

# cpack (from the build folder): build/granary_VERSION_ARCH.deb and
# build/libgranary-dev_VERSION_ARCH.deb, library dependencies found by
# dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME granary)
set(CPACK_PACKAGE_VENDOR Granary)
set(CPACK_PACKAGE_CONTACT "Granary developers <dev@granary.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed storage for AI model weights and datasets")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME granary)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "fuse3")  # fusermount3, for mounts by other users
if(TARGET granary_python)
  string(APPEND CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
    ", python3 (>= ${GRANARY_PYTHON_MINOR}), python3 (<< ${GRANARY_PYTHON_NEXT_MINOR})")
endif()
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libgranary-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The headers include protobuf's and DLPack's.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libprotobuf-dev, libdlpack-dev")
include(CPack)
