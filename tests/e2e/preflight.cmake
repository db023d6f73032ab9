# cmake -DE2E_DIR=<tests/e2e> -P preflight.cmake
# Checks what the e2e tests need before they run, and says how to get it.

set(fix "run scripts/deps (it installs Debian's nodejs and chromium and runs `npm ci` in tests/e2e)")

find_program(node node)
if(NOT node)
  message(FATAL_ERROR "e2e: node is not installed: ${fix}")
endif()
if(NOT EXISTS /usr/bin/chromium)
  message(FATAL_ERROR "e2e: /usr/bin/chromium is missing (Debian package chromium): ${fix}")
endif()

# Every pinned devDependency must be installed at its pinned version.
file(READ "${E2E_DIR}/package.json" package_json)
string(JSON count LENGTH "${package_json}" devDependencies)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON name MEMBER "${package_json}" devDependencies ${i})
  string(JSON wanted GET "${package_json}" devDependencies "${name}")
  set(installed_json "${E2E_DIR}/node_modules/${name}/package.json")
  if(NOT EXISTS "${installed_json}")
    message(FATAL_ERROR "e2e: npm package ${name} is not installed in ${E2E_DIR}/node_modules: ${fix}")
  endif()
  file(READ "${installed_json}" installed)
  string(JSON version GET "${installed}" version)
  if(NOT version STREQUAL wanted)
    message(FATAL_ERROR "e2e: ${name} ${version} is installed, package.json pins ${wanted}: ${fix}")
  endif()
endforeach()
message(STATUS "e2e: node, chromium and ${count} npm packages are in place")
