# SPDX-License-Identifier: BSD-3-Clause
# Run by `cmake --install` (see the top-level CMakeLists.txt): writes zxvmo.pc for the
# prefix being installed to and installs it into ${libdir}/pkgconfig. The caller sets
# ZXVMO_PC_TEMPLATE, ZXVMO_PC_OUTPUT, ZXVMO_PC_VERSION, ZXVMO_PC_LIBS_PRIVATE and
# ZXVMO_PC_INSTALL_{LIB,INCLUDE}DIR (GNUInstallDirs' values, relative or absolute).
set(ZXVMO_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(kind LIB INCLUDE)
  set(dir "${ZXVMO_PC_INSTALL_${kind}DIR}")
  if(IS_ABSOLUTE "${dir}")
    set(ZXVMO_PC_${kind}DIR "${dir}")
    set(ZXVMO_PC_${kind}DIR_FULL "${dir}")
  else()
    set(ZXVMO_PC_${kind}DIR "\${prefix}/${dir}")
    set(ZXVMO_PC_${kind}DIR_FULL "${CMAKE_INSTALL_PREFIX}/${dir}")
  endif()
endforeach()
configure_file("${ZXVMO_PC_TEMPLATE}" "${ZXVMO_PC_OUTPUT}" @ONLY)
# file(INSTALL) honours DESTDIR and records the file in install_manifest.txt.
file(INSTALL DESTINATION "${ZXVMO_PC_LIBDIR_FULL}/pkgconfig" TYPE FILE
     FILES "${ZXVMO_PC_OUTPUT}")
