# packaging/install.cmake - what `cmake --install` puts where, and the .deb
# that CPack makes of the same install (included by CMakeLists.txt).
#
#   PREFIX/bin/yima, PREFIX/sbin/yimad
#   PREFIX/share/man/man1/yima.1.gz, man8/yimad.8.gz
#   PREFIX/lib/systemd/system/yimad.service
#   PREFIX/share/yima/yima.proto, PREFIX/share/doc/yima/*.md
#   SYSCONF/yima/yimad.conf   (/etc/yima for PREFIX /usr, else PREFIX/etc/yima)
#
# `cpack -G DEB` in the build directory writes yima_<version>_amd64.deb
# with PREFIX /usr; its maintainer scripts are packaging/debian/.
include(GNUInstallDirs)

install(TARGETS yima-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS yimad RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})

# Man pages, gzipped as Debian ships them (sources in man/, mdoc).
find_program(GZIP gzip REQUIRED)
set(YIMA_MAN_PAGES)
foreach(page yima.1 yimad.8)
	string(REGEX REPLACE "^.*\\." "" section ${page})
	set(gz ${CMAKE_BINARY_DIR}/man/${page}.gz)
	add_custom_command(OUTPUT ${gz}
		COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
		COMMAND ${GZIP} -9n -c ${CMAKE_SOURCE_DIR}/man/${page} > ${gz}
		DEPENDS ${CMAKE_SOURCE_DIR}/man/${page})
	list(APPEND YIMA_MAN_PAGES ${gz})
	install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(man ALL DEPENDS ${YIMA_MAN_PAGES})

install(FILES ${CMAKE_SOURCE_DIR}/proto/yima.proto DESTINATION ${CMAKE_INSTALL_DATADIR}/yima)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/deployment.md
	${CMAKE_SOURCE_DIR}/docs/protocol.md ${CMAKE_SOURCE_DIR}/docs/spec.md
	DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The unit names the installed yimad and its config file, which are known
# only when installing (cpack installs under /usr, `cmake --install
# --prefix P` under P): both are written then, into the install.
install(CODE "
	set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
	if(prefix STREQUAL \"/usr\")
		set(YIMA_CONFDIR /etc/yima)
	else()
		set(YIMA_CONFDIR \"\${prefix}/etc/yima\")
	endif()
	set(YIMA_SBINDIR \"\${prefix}/${CMAKE_INSTALL_SBINDIR}\")
	# a directory of this destination's own: cpack and cmake --install may
	# run at once (but two installs to one place would race anyway)
	string(MD5 run \"\$ENV{DESTDIR}\${prefix}\")
	set(unit \"${CMAKE_BINARY_DIR}/packaging/\${run}/yimad.service\")
	configure_file(\"${CMAKE_SOURCE_DIR}/packaging/yimad.service.in\" \"\${unit}\" @ONLY)
	file(INSTALL DESTINATION \"\${prefix}/lib/systemd/system\" TYPE FILE FILES \"\${unit}\")
	file(REMOVE_RECURSE \"${CMAKE_BINARY_DIR}/packaging/\${run}\")
	file(INSTALL DESTINATION \"\${YIMA_CONFDIR}\" TYPE FILE
		FILES \"${CMAKE_SOURCE_DIR}/packaging/yimad.conf\")
")

# ---- the .deb -------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME yima)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "yima maintainers <yima@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "drug trace-code ledger and settle-by-code verifier")
set(CPACK_PACKAGE_DESCRIPTION "yima keeps an append-only, tamper-evident LMDB ledger of every
scan of a medicine pack's trace code, verifies settlement claims against it,
and serves facilities and regulators over TLS with client certificates
(yimad).  The yima command loads catalogs and recalls, ingests scan files,
uploads them to yimad, settles claims, reconciles dispense logs, writes
evidence reports and audits the ledger.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)		# yima_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Library dependencies from the binaries (dpkg-shlibdeps), plus what the
# maintainer scripts run.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "lmdb-utils")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
	${CMAKE_SOURCE_DIR}/packaging/debian/postinst
	${CMAKE_SOURCE_DIR}/packaging/debian/prerm
	${CMAKE_SOURCE_DIR}/packaging/debian/postrm
	${CMAKE_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
