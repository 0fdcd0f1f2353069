// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: zx::handle, an owned handle of any type (see object.h).
#ifndef LIB_ZX_HANDLE_H_
#define LIB_ZX_HANDLE_H_

#include <lib/zx/object.h>

namespace zx {

using handle = object<void>;
using unowned_handle = unowned<handle>;

}  // namespace zx

#endif  // LIB_ZX_HANDLE_H_
