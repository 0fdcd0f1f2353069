// SPDX-License-Identifier: BSD-3-Clause
// Internal interface of vmo_attribution.c beyond vmo_get_info (vmo.h): a seam for
// white-box tests.
#ifndef ZXVMO_SRC_VMO_ATTRIBUTION_H_
#define ZXVMO_SRC_VMO_ATTRIBUTION_H_

#include "vmo.h"

// If set, every attribution walk calls it once, with the family lock held shared and
// the family's scratch lock held, after the one-way views are computed and before
// the page maps are walked; `v` is the VMO queried. Tests use it to hold a query in
// the middle of its walk. Set and cleared only while no query runs.
extern void (*vmo_attr_walk_hook)(vmo_t* v);

#endif  // ZXVMO_SRC_VMO_ATTRIBUTION_H_
