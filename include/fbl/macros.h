// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: the copy/move-suppressing macros of Fuchsia's fbl that fzl uses. Each goes in a
// class body and names the class.
#ifndef FBL_MACROS_H_
#define FBL_MACROS_H_

#include <stddef.h>

// No copy or copy-assignment; moves stay possible if the class declares them.
#define DISALLOW_COPY_AND_ASSIGN_ALLOW_MOVE(_class_name) \
  _class_name(const _class_name&) = delete;              \
  _class_name& operator=(const _class_name&) = delete

// Neither copy nor move, in any form.
#define DISALLOW_COPY_ASSIGN_AND_MOVE(_class_name) \
  _class_name(const _class_name&) = delete;        \
  _class_name(_class_name&&) = delete;             \
  _class_name& operator=(const _class_name&) = delete; \
  _class_name& operator=(_class_name&&) = delete

// Only heap-free use: no operator new.
#define DISALLOW_NEW                          \
  static void* operator new(size_t) = delete; \
  static void* operator new[](size_t) = delete

#endif  // FBL_MACROS_H_
