// SPDX-License-Identifier: BSD-3-Clause
// §16 in the differential driver (format 5, operations 64..79): discardable VMOs with
// LOCK, TRY_LOCK and UNLOCK, discarding under a deterministic page-budget pressure,
// zx_vmo_set_stream_size, and REFERENCE children (kept, except those of pager-backed
// VMOs: compared, then closed), each against model_ref.c.
#include <stdlib.h>
#include <string.h>

#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zxvmo.h>

#include "driver_int.h"
#include "model_ref.h"

static bool make_room(driver_t* d, uint8_t op) {
  if (m_handle_count(&d->m) < DRV_MAX_LIVE) return true;
  close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE));
  return false;
}

// zx_vmo_create(size, DISCARDABLE [| RESIZABLE]) (§3, §16.2).
static void op_disc_create(driver_t* d) {
  uint8_t k = u8(d);
  uint64_t size = (uint64_t)(u8(d) % 9) * PG;
  if (k % 8 == 7) size += 1 + u16(d) % (PG - 1);  // rounded up
  uint32_t opts = ZX_VMO_DISCARDABLE | ((k & 8) ? ZX_VMO_RESIZABLE : 0);
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t want = m_vmo_create(&d->m, size, opts, &mh);
  char hb[32];
  trace(d, "create(size=%#" PRIx64 ", opts=%#x) = %s %s", size, opts, sname(want),
        want == ZX_OK ? hname(d, mh, hb, sizeof(hb)) : "");
  EXPECT_STATUS(d, "zx_vmo_create (discardable)", zx_vmo_create(size, opts, &rh), want);
  if (want == ZX_OK) bind_new(d, mh, rh);
}

static const char* lock_name(uint32_t op) {
  return op == ZX_VMO_OP_LOCK ? "LOCK" : op == ZX_VMO_OP_TRY_LOCK ? "TRY_LOCK" : "UNLOCK";
}

// zx_vmo_op_range LOCK / TRY_LOCK / UNLOCK (§16.2): mostly over the whole VMO, with a
// good buffer; sometimes part of it, an overflowing range, a NULL or short buffer.
static void op_lock(driver_t* d) {
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  static const uint32_t ops[] = {ZX_VMO_OP_LOCK, ZX_VMO_OP_LOCK, ZX_VMO_OP_UNLOCK,
                                 ZX_VMO_OP_UNLOCK, ZX_VMO_OP_TRY_LOCK};
  uint32_t op = ops[k % 5];
  uint64_t size = hsize(d, h), off = 0, len = size;
  switch ((k >> 3) % 8) {
    case 0: off = PG; len = size > PG ? size - PG : 0; break;
    case 1: len = size + PG; break;
    case 2: off = 1; len = UINT64_MAX; break;
    case 3: len = size ? size - 1 : PG; break;
    default: break;
  }
  uint8_t bk = u8(d) % 16;
  bool buf_null = bk == 0;
  size_t bsize = bk == 1 ? sizeof(zx_vmo_lock_state_t) - 1 : sizeof(zx_vmo_lock_state_t);
  zx_vmo_lock_state_t got_ls, want_ls;
  memset(&got_ls, 0x5a, sizeof(got_ls));
  memset(&want_ls, 0, sizeof(want_ls));
  bool buf_bad = buf_null || bsize < sizeof(zx_vmo_lock_state_t);
  zx_status_t want = m_vmo_lock_op(&d->m, h, op, off, len, buf_bad, &want_ls);
  char hb[32];
  trace(d, "op_range(%s, %s, off=%#" PRIx64 ", len=%#" PRIx64 "%s) = %s",
        hname(d, h, hb, sizeof(hb)), lock_name(op), off, len,
        buf_null ? ", buf=NULL" : bsize < sizeof(got_ls) ? ", buf short" : "", sname(want));
  zx_status_t got = zx_vmo_op_range(real_handle(d, h), op, off, len, buf_null ? NULL : &got_ls,
                                    op == ZX_VMO_OP_LOCK ? bsize : 0);
  EXPECT_STATUS(d, "zx_vmo_op_range (lock)", got, want);
  if (got == ZX_OK && op == ZX_VMO_OP_LOCK) {
    EXPECT_EQ64(d, "lock_state.offset", got_ls.offset, want_ls.offset);
    EXPECT_EQ64(d, "lock_state.size", got_ls.size, want_ls.size);
    EXPECT_EQ64(d, "lock_state.discarded_offset", got_ls.discarded_offset,
                want_ls.discarded_offset);
    EXPECT_EQ64(d, "lock_state.discarded_size", got_ls.discarded_size, want_ls.discarded_size);
  }
}

// Memory pressure, made deterministic (D60): the budget is set to the pages in use, and
// a fresh one-page VMO is written, which needs one page more. Only with check_global
// (the budget and pages_in_use are the process's), and only without pager VMOs (after
// the discardable VMOs, pager pages would be evicted, D47, in an order the model does
// not keep).
static void op_pressure(driver_t* d) {
  if (!d->check_global || m_has_pager_pages(&d->m)) {
    trace(d, "pressure: skipped (%s)", d->check_global ? "pager VMOs" : "not alone");
    return;
  }
  zxvmo_stats_t s;
  zxvmo_get_stats(&s);
  uint64_t old_budget = s.page_budget;
  zx_handle_t t = ZX_HANDLE_INVALID;
  zx_status_t st = zx_vmo_create(PG, 0, &t);
  if (st != ZX_OK) fail(d, "pressure: zx_vmo_create: %s", sname(st));
  st = zxvmo_set_page_budget(s.pages_in_use);
  if (st != ZX_OK) fail(d, "pressure: zxvmo_set_page_budget: %s", sname(st));
  zx_status_t want = m_disc_pressure(&d->m);
  trace(d, "pressure: budget %" PRIu64 " pages (all in use), a one-page write = %s",
        s.pages_in_use, sname(want));
  uint8_t b = 1;
  zx_status_t got = zx_vmo_write(t, &b, 0, 1);
  zx_handle_close(t);
  st = zxvmo_set_page_budget(old_budget);
  if (st != ZX_OK) fail(d, "pressure: restoring the budget: %s", sname(st));
  EXPECT_STATUS(d, "zx_vmo_write under pressure", got, want);
}

// zx_vmo_set_stream_size (§16.3): at, below and above the content size, at and beyond
// the VMO's size, unaligned, huge.
static void op_stream_size(driver_t* d) {
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  uint64_t size = hsize(d, h);
  uint64_t cs = h >= 0 ? d->m.v[d->m.h[h].vmo].content_size : 0;
  uint64_t n;
  switch (k % 8) {
    case 0: n = cs; break;
    case 1: n = size; break;
    case 2: n = 0; break;
    case 3: n = size ? u16(d) % size : 0; break;
    case 4: n = size + 1 + u8(d) % 3 * PG; break;
    case 5: n = size >= PG ? size - PG + u8(d) % 2 : 0; break;
    case 6: n = u64(d); break;
    default: n = cs / 2; break;
  }
  char hb[32];
  if (!d->zero_ops && h >= 0 && d->m.v[d->m.h[h].vmo].pbacked) {
    trace(d, "set_stream_size(%s): skipped (zero ranges of pager VMOs are off)",
          hname(d, h, hb, sizeof(hb)));
    return;
  }
  zx_status_t want = m_set_stream_size(&d->m, h, n);
  trace(d, "set_stream_size(%s, %#" PRIx64 ") = %s", hname(d, h, hb, sizeof(hb)), n,
        sname(want));
  EXPECT_STATUS(d, "zx_vmo_set_stream_size", zx_vmo_set_stream_size(real_handle(d, h), n), want);
}

// zx_vmo_create_child(REFERENCE [| RESIZABLE | NO_WRITE]) (§16.1): the checks in order.
// A reference the model keeps is bound and compared as any VMO is (the operations that
// follow meet it). One it does not keep (of a pager-backed VMO) is compared here
// (rights, size, content size, name, parent, attribution, the parent's num_children,
// the bytes of its first page), written through when it can be (the write must show
// through the parent, which the next checks of the parent compare), and closed.
static void op_reference(driver_t* d) {
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  uint32_t opts = ZX_VMO_CHILD_REFERENCE;
  if (k & 1) opts |= ZX_VMO_CHILD_RESIZABLE;
  if (k & 2) opts |= ZX_VMO_CHILD_NO_WRITE;
  if ((k & 0x1c) == 0x1c) opts |= 1u << (u8(d) % 32);
  uint64_t off = (k & 0xe0) == 0xe0 ? PG : 0;
  uint64_t size = (k & 0xe0) == 0xc0 ? PG : (k & 0xe0) == 0xa0 ? UINT64_MAX : 0;
  bool out_null = (k & 0xe0) == 0x80;
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t want = m_vmo_create_child(&d->m, h, opts, off, size, out_null, &mh);
  zx_status_t got = zx_vmo_create_child(real_handle(d, h), opts, off, size, out_null ? NULL : &rh);
  char hb[32];
  char nb[32];
  trace(d, "create_child(%s, opts=%#x, off=%#" PRIx64 ", size=%#" PRIx64 "%s) = %s %s",
        hname(d, h, hb, sizeof(hb)), opts, off, size, out_null ? ", out=NULL" : "",
        want == M_UNMODELLED ? "OK" : sname(want),
        want == M_UNMODELLED ? "(reference: compared, then closed)"
        : want == ZX_OK      ? hname(d, mh, nb, sizeof(nb))
                             : "");
  if (want != M_UNMODELLED) {
    EXPECT_STATUS(d, "zx_vmo_create_child (reference)", got, want);
    if (got == ZX_OK) bind_new(d, mh, rh);
    return;
  }
  EXPECT_STATUS(d, "zx_vmo_create_child (reference)", got, ZX_OK);
  const mhandle_t* ph = &d->m.h[h];
  const mvmo_t* pv = &d->m.v[ph->vmo];
  zx_info_handle_basic_t bi;
  EXPECT_STATUS(d, "reference HANDLE_BASIC",
                zx_object_get_info(rh, ZX_INFO_HANDLE_BASIC, &bi, sizeof(bi), NULL, NULL), ZX_OK);
  EXPECT_EQ64(d, "reference handle rights", bi.rights, m_ref_rights(ph->rights, opts));
  if (bi.koid == pv->koid) fail(d, "a reference has its parent's koid");
  zx_info_vmo_t info;
  EXPECT_STATUS(d, "reference ZX_INFO_VMO",
                zx_object_get_info(rh, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL), ZX_OK);
  EXPECT_EQ64(d, "reference size", info.size_bytes, pv->pages * PG);
  EXPECT_EQ64(d, "reference parent_koid", info.parent_koid, pv->koid);
  EXPECT_EQ64(d, "reference committed_bytes", info.committed_bytes, 0);
  EXPECT_EQ64(d, "reference num_children", info.num_children, 0);
  // "a reference of a resizable VMO is resizable, RESIZABLE asked or not"
  EXPECT_EQ64(d, "reference RESIZABLE flag", (info.flags & ZX_INFO_VMO_RESIZABLE) != 0,
              pv->resizable);
  char want_name[M_NAME_LEN];
  memset(want_name, 0, sizeof(want_name));
  if (ph->rights & ZX_RIGHT_GET_PROPERTY) memcpy(want_name, pv->name, sizeof(want_name));
  if (memcmp(info.name, want_name, sizeof(want_name)) != 0) {
    fail(d, "reference name: zxvmo \"%.32s\", model \"%.32s\"", info.name, want_name);
  }
  uint64_t cs = 0;
  EXPECT_STATUS(d, "reference content size",
                zx_object_get_property(rh, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  EXPECT_EQ64(d, "reference content size", cs, pv->content_size);
  zx_info_vmo_t pinfo;
  EXPECT_STATUS(d, "parent ZX_INFO_VMO",
                zx_object_get_info(real_handle(d, h), ZX_INFO_VMO, &pinfo, sizeof(pinfo), NULL,
                                   NULL), ZX_OK);
  EXPECT_EQ64(d, "parent num_children with a reference", pinfo.num_children,
              m_children(&d->m, ph->vmo) + 1);
  // The bytes: the first page through the reference is the parent's (a page a pager VMO
  // lacks, and a discarded VMO, are left alone: nothing to compare, or NOT_FOUND).
  bool plain = pv->pages > 0 && !pv->discarded && !m_page_absent(&d->m, ph->vmo, 0);
  if (plain && (bi.rights & ZX_RIGHT_READ)) {
    EXPECT_STATUS(d, "read through a reference", zx_vmo_read(rh, d->buf_a, 0, PG), ZX_OK);
    m_map_read(&d->m, ph->vmo, d->buf_b, 0, PG);
    if (memcmp(d->buf_a, d->buf_b, PG) != 0) fail(d, "a reference's first page differs");
  }
  if (plain && !pv->pbacked && (bi.rights & ZX_RIGHT_WRITE) && (k & 0x1c) == 0x04) {
    uint64_t woff = (uint64_t)u8(d) % (pv->pages * PG);
    uint64_t wlen = 1 + u8(d) % 64;
    if (wlen > pv->pages * PG - woff) wlen = pv->pages * PG - woff;
    fill(d->buf_a, wlen, u8(d));
    trace(d, "write through the reference(off=%#" PRIx64 ", len=%#" PRIx64 ")", woff, wlen);
    EXPECT_STATUS(d, "write through a reference", zx_vmo_write(rh, d->buf_a, woff, wlen), ZX_OK);
    m_map_write(&d->m, ph->vmo, d->buf_a, woff, wlen);
  }
  zx_handle_close(rh);
}

void driver_ref_op(driver_t* d, uint8_t op) {
  switch (op % 80) {
    case 64: case 65: case 66:
      if (make_room(d, op)) op_disc_create(d);
      break;
    case 67: case 68: case 69: case 70: case 78: case 79: op_lock(d); break;
    case 71: case 72: op_pressure(d); break;
    case 73: case 74: case 75: op_stream_size(d); break;
    default:  // 76, 77
      if (make_room(d, op)) op_reference(d);
      break;
  }
}
