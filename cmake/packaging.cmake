# Installing plaint (`cmake --install`) and its Debian package (`cpack`).
#
# Components:
#   runtime  bin/plaint, the default policy and examples, the docs
#   system   /etc/plaint/{plaint.conf,policy.toml} and the systemd unit
#            (absolute paths: in the package, or under DESTDIR)
#   dev      the headers, static libraries and the CMake package
#            (find_package(plaint) → plaint::engine, plaint::workflows,
#            plaint::storage), for programs that embed the engine
# The .deb holds runtime and system; its dependencies are the Debian
# runtime packages of the libraries the binary links (dpkg-shlibdeps).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(FILES ${PROJECT_SOURCE_DIR}/workflows/policy.toml ${PROJECT_SOURCE_DIR}/examples/policy-business-hours.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/plaint COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/design.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/plaint.service DESTINATION /lib/systemd/system COMPONENT system)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/plaint.conf ${PROJECT_SOURCE_DIR}/workflows/policy.toml
        DESTINATION /etc/plaint COMPONENT system)

# The embeddable libraries: headers keep their module folder, so
# #include "engine/executor.h" works as it does in this tree.
foreach(module engine workflows storage)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${module}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/plaint/${module}
          COMPONENT dev FILES_MATCHING PATTERN "*.h")
endforeach()
set_target_properties(plaint_engine PROPERTIES EXPORT_NAME engine)
set_target_properties(plaint_workflows PROPERTIES EXPORT_NAME workflows)
set_target_properties(plaint_storage PROPERTIES EXPORT_NAME storage)
set_target_properties(plaint_warnings PROPERTIES EXPORT_NAME warnings)
install(TARGETS plaint_engine plaint_workflows plaint_storage plaint_warnings EXPORT plaintTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/plaint)
install(EXPORT plaintTargets NAMESPACE plaint:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plaint COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/plaintConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/plaintConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plaint)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/plaintConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/plaintConfig.cmake ${PROJECT_BINARY_DIR}/plaintConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/plaint COMPONENT dev)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME plaint)
set(CPACK_PACKAGE_VENDOR "plaint")
set(CPACK_PACKAGE_CONTACT "plaint maintainers <plaint@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "customer-complaint and service-ticket workflow engine")
set(CPACK_PACKAGE_DESCRIPTION "A state-machine engine that drives each complaint from intake to closed, \
persists every transition atomically (SQLite, or PostgreSQL for several nodes), fires durable SLA escalation \
timers, and serves an HTTP API, an event stream and a web desk with KPI reports.")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL runtime system)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/conffiles ${PROJECT_SOURCE_DIR}/cmake/debian/postinst
    ${PROJECT_SOURCE_DIR}/cmake/debian/prerm ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
