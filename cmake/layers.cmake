# layers.cmake — the layering check (DESIGN §2), run as
#   cmake -DSRC=<source root> -P cmake/layers.cmake
# by the build (before any library is compiled: the top-level CMakeLists.txt)
# and by the ctest `layering`. Included from a project instead, it only sets
# `layers`, the folders it checks, and returns.
# Folders are layers; a file may include its own folder's headers and those
# of folders below it, never one above it nor a sibling at its own level
# (so no two folders include each other). validate/ is an application
# beside cli/ and shares cli/'s helpers. Inside models/ the subfolders are
# ranked the same way (models_sub_* below). Exits non-zero naming every
# offending include line.
set(rank_base 0)
set(rank_sim 1)
set(rank_traces 1)
set(rank_kernels 1)
set(rank_models 2)
set(rank_reports 3)
set(rank_lab 4)
set(rank_cli 5)
set(rank_validate 6)
set(layers base sim traces kernels models reports lab cli validate)
if(NOT CMAKE_SCRIPT_MODE_FILE)
  return()
endif()
cmake_minimum_required(VERSION 3.22) # script mode: the policies (IN_LIST) of the project

# models/'s sub-layers: hardware costs, then scheduling, then the workload
# families (llm/ today), then the files directly in models/ (the workload
# registry, rank 3, which knows every family). A file in models/X may include
# models/Y only when Y ranks below X (its own subfolder is fine); a subfolder
# that is not ranked here is refused, so a new one cannot escape the check.
set(models_sub_hw 0)
set(models_sub_sched 1)
set(models_sub_llm 2)
set(models_top 3) # models/*.c, models/*.h

# TEMPORARY: includes inside models/ that run up its sub-layers today, as
# exact "file -> include" pairs. They are being removed (the architecture
# and the program builder leave hw/'s and sched/'s interfaces); delete each
# pair with its include, and the list with the last one.
set(models_exceptions
    "models/hw/cost.h -> models/llm/arch.h"
    "models/sched/sched.h -> models/llm/arch.h"
    "models/sched/estimate.h -> models/llm/build.h")

if(NOT SRC)
  message(FATAL_ERROR "layers.cmake: give -DSRC=<source root>")
endif()

# The sub-layer of a path under models/ ("models/llm/arch.h" -> llm, "" for a
# file directly in models/) into ${out}, its rank into ${out}_rank (empty
# when unranked).
function(models_sub path out)
  if(path MATCHES "^models/([^/]+)/")
    set(sub "${CMAKE_MATCH_1}")
    set(r "${models_sub_${sub}}")
  else()
    set(sub "")
    set(r "${models_top}")
  endif()
  set(${out} "${sub}" PARENT_SCOPE)
  set(${out}_rank "${r}" PARENT_SCOPE)
endfunction()

set(bad "")
set(nfiles 0)
set(used_exceptions "")
foreach(top IN LISTS layers)
  file(GLOB_RECURSE files "${SRC}/${top}/*.c" "${SRC}/${top}/*.h" "${SRC}/${top}/*.cpp"
       "${SRC}/${top}/*.cu")
  foreach(f IN LISTS files)
    math(EXPR nfiles "${nfiles} + 1")
    file(RELATIVE_PATH rel "${SRC}" "${f}")
    if(top STREQUAL "models")
      models_sub("${rel}" from)
      if(from_rank STREQUAL "")
        list(APPEND bad "${rel}: models/${from}/ has no sub-layer rank in cmake/layers.cmake")
      endif()
    endif()
    file(STRINGS "${f}" incs REGEX "^[ \t]*#[ \t]*include[ \t]+\"[^\"]+\"")
    foreach(line IN LISTS incs)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*" "\\1" path "${line}")
      string(REGEX MATCH "^[^/]+" to "${path}")
      if(NOT DEFINED rank_${to})
        continue()
      endif()
      if(to STREQUAL top)
        # inside models/: the sub-layers
        if(NOT top STREQUAL "models" OR from_rank STREQUAL "")
          continue()
        endif()
        models_sub("${path}" into)
        if(into STREQUAL from)
          continue()
        endif()
        if("${rel} -> ${path}" IN_LIST models_exceptions)
          list(APPEND used_exceptions "${rel} -> ${path}")
          continue()
        endif()
        if(into_rank STREQUAL "")
          list(APPEND bad "${rel} includes ${path}: models/${into}/ has no sub-layer rank")
        elseif(into_rank GREATER_EQUAL from_rank)
          if(into_rank EQUAL from_rank)
            set(why "a sibling sub-layer of")
          else()
            set(why "a sub-layer above")
          endif()
          if(into STREQUAL "")
            set(into_name "models/ (its own files)")
          else()
            set(into_name "models/${into}/")
          endif()
          if(from STREQUAL "")
            set(from_name "models/ (its own files)")
          else()
            set(from_name "models/${from}/")
          endif()
          list(APPEND bad "${rel} includes ${path}: ${into_name} is ${why} ${from_name}")
        endif()
        continue()
      endif()
      if(top STREQUAL "validate" AND to STREQUAL "cli")
        continue()
      endif()
      if(rank_${to} GREATER_EQUAL rank_${top})
        if(rank_${to} EQUAL rank_${top})
          set(why "a sibling layer")
        else()
          set(why "a layer above")
        endif()
        list(APPEND bad "${rel} includes ${path}: ${to}/ is ${why} ${top}/")
      endif()
    endforeach()
  endforeach()
endforeach()

if(NOT MINFILES)
  set(MINFILES 50)
endif()
if(nfiles LESS MINFILES)
  message(FATAL_ERROR "layers.cmake: only ${nfiles} source files under ${SRC}: wrong root?")
endif()
foreach(x IN LISTS models_exceptions)
  string(REGEX REPLACE " -> .*" "" xfile "${x}")
  if(NOT x IN_LIST used_exceptions AND EXISTS "${SRC}/${xfile}")
    message("layering: exception '${x}' is no longer needed: delete it from cmake/layers.cmake")
  endif()
endforeach()
list(LENGTH bad nbad)
if(nbad GREATER 0)
  foreach(b IN LISTS bad)
    message("layering: ${b}")
  endforeach()
  message(FATAL_ERROR "layering: ${nbad} include(s) against DESIGN §2's layers")
endif()
message("layering: ${nfiles} files, every include runs down the layers")
