// SPDX-License-Identifier: BSD-3-Clause
// A VMO test written as for Fuchsia, in the style of Zircon's own core VMO tests: it uses
// only Fuchsia's headers (lib/zx, lib/fzl, <zircon/...>) and builds with nothing but
// `pkg-config --cflags --libs zxvmo` (scripts/test-install.sh does exactly that against
// the installed package; ctest builds it against the static library). The few lines of
// zxtest-like harness at the top stand in for Fuchsia's test framework.
#include <lib/fzl/owned-vmo-mapper.h>
#include <lib/fzl/vmar-manager.h>
#include <lib/fzl/vmo-mapper.h>
#include <lib/zx/event.h>
#include <lib/zx/handle.h>
#include <lib/zx/vmar.h>
#include <lib/zx/vmo.h>
#include <stdio.h>
#include <string.h>
#include <zircon/assert.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#include <utility>

// ---- a minimal zxtest stand-in -------------------------------------------------

namespace {

struct TestCase {
  const char* suite;
  const char* name;
  void (*fn)(bool* failed);
  TestCase* next;
};
TestCase* g_tests = nullptr;

struct Registrar {
  explicit Registrar(TestCase* t) {
    t->next = g_tests;
    g_tests = t;
  }
};

}  // namespace

#define TEST(suite, name)                                                  \
  static void suite##_##name(bool* failed_);                               \
  static TestCase suite##_##name##_case = {#suite, #name, suite##_##name, \
                                           nullptr};                       \
  static Registrar suite##_##name##_reg(&suite##_##name##_case);           \
  static void suite##_##name(bool* failed_)

#define CHECK_(cond, fatal, text)                                                \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, text);   \
      *failed_ = true;                                                           \
      if (fatal) return;                                                         \
    }                                                                            \
  } while (0)
#define ASSERT_OK(expr) CHECK_((expr) == ZX_OK, true, #expr " == ZX_OK")
#define EXPECT_OK(expr) CHECK_((expr) == ZX_OK, false, #expr " == ZX_OK")
#define ASSERT_STATUS(expr, st) CHECK_((expr) == (st), true, #expr " == " #st)
#define EXPECT_STATUS(expr, st) CHECK_((expr) == (st), false, #expr " == " #st)
#define ASSERT_EQ(a, b) CHECK_((a) == (b), true, #a " == " #b)
#define EXPECT_EQ(a, b) CHECK_((a) == (b), false, #a " == " #b)
#define EXPECT_NE(a, b) CHECK_((a) != (b), false, #a " != " #b)
#define ASSERT_TRUE(a) CHECK_((a), true, #a)
#define EXPECT_TRUE(a) CHECK_((a), false, #a)
#define EXPECT_FALSE(a) CHECK_(!(a), false, "!" #a)
#define ASSERT_NOT_NULL(a) CHECK_((a) != nullptr, true, #a " != nullptr")

// ---- the tests -------------------------------------------------------------------

namespace {

zx_info_vmo_t VmoInfo(const zx::vmo& vmo) {
  zx_info_vmo_t info = {};
  ZX_ASSERT(vmo.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr) == ZX_OK);
  return info;
}

TEST(VmoTestCase, Create) {
  const size_t page = zx_system_get_page_size();
  zx::vmo vmo;
  ASSERT_OK(zx::vmo::create(page * 4, 0, &vmo));
  uint64_t size;
  ASSERT_OK(vmo.get_size(&size));
  EXPECT_EQ(size, page * 4);
  zx_info_handle_basic_t basic;
  ASSERT_OK(vmo.get_info(ZX_INFO_HANDLE_BASIC, &basic, sizeof(basic), nullptr, nullptr));
  EXPECT_EQ(basic.type, ZX_OBJ_TYPE_VMO);
  EXPECT_EQ(basic.rights, ZX_DEFAULT_VMO_RIGHTS);
  // Sizes round up to whole pages.
  zx::vmo odd;
  ASSERT_OK(zx::vmo::create(1, 0, &odd));
  ASSERT_OK(odd.get_size(&size));
  EXPECT_EQ(size, page);
  EXPECT_STATUS(zx::vmo::create(page, ~0u, &odd), ZX_ERR_INVALID_ARGS);
  EXPECT_FALSE(odd.is_valid());
}

TEST(VmoTestCase, ReadWriteThroughMapping) {
  const size_t page = zx_system_get_page_size();
  zx::vmo vmo;
  ASSERT_OK(zx::vmo::create(page * 2, 0, &vmo));
  zx_vaddr_t addr;
  ASSERT_OK(zx::vmar::root_self()->map(ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0, page * 2,
                                       &addr));
  auto* bytes = reinterpret_cast<uint8_t*>(addr);
  memset(bytes, 0x5a, page * 2);
  uint8_t buf[16];
  ASSERT_OK(vmo.read(buf, page + 3, sizeof(buf)));
  for (uint8_t b : buf) {
    EXPECT_EQ(b, 0x5a);
  }
  const char msg[] = "written by zx_vmo_write";
  ASSERT_OK(vmo.write(msg, 100, sizeof(msg)));
  EXPECT_EQ(memcmp(bytes + 100, msg, sizeof(msg)), 0);
  EXPECT_EQ(VmoInfo(vmo).num_mappings, 1u);
  ASSERT_OK(zx::vmar::root_self()->unmap(addr, page * 2));
  EXPECT_EQ(VmoInfo(vmo).num_mappings, 0u);
}

TEST(VmoTestCase, SnapshotChildIsCopyOnWrite) {
  const size_t page = zx_system_get_page_size();
  zx::vmo parent;
  ASSERT_OK(zx::vmo::create(page, 0, &parent));
  uint32_t value = 1;
  ASSERT_OK(parent.write(&value, 0, sizeof(value)));
  zx::vmo child;
  ASSERT_OK(parent.create_child(ZX_VMO_CHILD_SNAPSHOT, 0, page, &child));
  value = 2;
  ASSERT_OK(child.write(&value, 0, sizeof(value)));
  ASSERT_OK(parent.read(&value, 0, sizeof(value)));
  EXPECT_EQ(value, 1u);
  ASSERT_OK(child.read(&value, 0, sizeof(value)));
  EXPECT_EQ(value, 2u);
  EXPECT_EQ(VmoInfo(child).parent_koid, VmoInfo(parent).koid);
  EXPECT_EQ(VmoInfo(parent).num_children, 1u);
  child.reset();
  zx_signals_t pending;
  EXPECT_OK(parent.wait_one(ZX_VMO_ZERO_CHILDREN, zx::time::infinite_past(), &pending));
}

TEST(VmoTestCase, Resize) {
  const size_t page = zx_system_get_page_size();
  zx::vmo fixed, resizable;
  ASSERT_OK(zx::vmo::create(page, 0, &fixed));
  EXPECT_STATUS(fixed.set_size(page * 2), ZX_ERR_UNAVAILABLE);
  ASSERT_OK(zx::vmo::create(page, ZX_VMO_RESIZABLE, &resizable));
  ASSERT_OK(resizable.set_size(page * 3));
  uint64_t size;
  ASSERT_OK(resizable.get_size(&size));
  EXPECT_EQ(size, page * 3);
}

TEST(VmoTestCase, Rights) {
  const size_t page = zx_system_get_page_size();
  zx::vmo vmo, ro;
  ASSERT_OK(zx::vmo::create(page, 0, &vmo));
  ASSERT_OK(vmo.duplicate(ZX_RIGHT_READ | ZX_RIGHT_MAP, &ro));
  uint8_t b = 1;
  EXPECT_STATUS(ro.write(&b, 0, 1), ZX_ERR_ACCESS_DENIED);
  EXPECT_OK(ro.read(&b, 0, 1));
  zx_vaddr_t addr;
  EXPECT_STATUS(zx::vmar::root_self()->map(ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, ro, 0, page,
                                           &addr),
                ZX_ERR_ACCESS_DENIED);
  // The underscore name is the same call.
  EXPECT_STATUS(_zx_vmo_write(ro.get(), &b, 0, 1), ZX_ERR_ACCESS_DENIED);
}

TEST(VmoMapperTestCase, CreateAndMap) {
  const size_t page = zx_system_get_page_size();
  fzl::VmoMapper mapper;
  zx::vmo vmo;
  ASSERT_OK(mapper.CreateAndMap(page * 2, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, nullptr, &vmo,
                                ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_MAP));
  ASSERT_NOT_NULL(mapper.start());
  EXPECT_EQ(mapper.size(), page * 2);
  static_cast<uint8_t*>(mapper.start())[page] = 42;
  uint8_t b = 0;
  ASSERT_OK(vmo.read(&b, page, 1));
  EXPECT_EQ(b, 42);
  zx_info_handle_basic_t basic;
  ASSERT_OK(vmo.get_info(ZX_INFO_HANDLE_BASIC, &basic, sizeof(basic), nullptr, nullptr));
  EXPECT_EQ(basic.rights, ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_MAP);
  EXPECT_STATUS(mapper.CreateAndMap(page), ZX_ERR_BAD_STATE);
  mapper.Unmap();
  EXPECT_TRUE(mapper.start() == nullptr);
  EXPECT_EQ(VmoInfo(vmo).num_mappings, 0u);
}

TEST(VmoMapperTestCase, MapIntoSubVmar) {
  const size_t page = zx_system_get_page_size();
  fbl::RefPtr<fzl::VmarManager> manager = fzl::VmarManager::Create(page * 8);
  ASSERT_TRUE(manager != nullptr);
  zx::vmo vmo;
  ASSERT_OK(zx::vmo::create(page * 4, 0, &vmo));
  fzl::VmoMapper mapper;
  ASSERT_OK(mapper.Map(vmo, page, 0, ZX_VM_PERM_READ, manager));
  EXPECT_EQ(mapper.size(), page * 3);
  EXPECT_TRUE(mapper.manager() == manager);
  auto start = reinterpret_cast<uintptr_t>(mapper.start());
  auto base = reinterpret_cast<uintptr_t>(manager->start());
  EXPECT_TRUE(start >= base && start + mapper.size() <= base + manager->size());
  EXPECT_STATUS(fzl::VmoMapper().Map(vmo, page * 4, page), ZX_ERR_OUT_OF_RANGE);
}

TEST(VmoMapperTestCase, OwnedVmoMapper) {
  const size_t page = zx_system_get_page_size();
  fzl::OwnedVmoMapper owned;
  ASSERT_OK(owned.CreateAndMap(page, "owned-vmo"));
  char name[ZX_MAX_NAME_LEN] = {};
  ASSERT_OK(owned.vmo().get_property(ZX_PROP_NAME, name, sizeof(name)));
  EXPECT_EQ(strcmp(name, "owned-vmo"), 0);
  memcpy(owned.start(), "abc", 3);
  fzl::OwnedVmoMapper moved(std::move(owned));
  EXPECT_TRUE(owned.start() == nullptr);
  zx::vmo vmo = moved.Release();
  EXPECT_TRUE(moved.start() == nullptr);
  char got[3];
  ASSERT_OK(vmo.read(got, 0, 3));
  EXPECT_EQ(memcmp(got, "abc", 3), 0);
}

TEST(HandleTestCase, EventSignals) {
  zx::event event;
  ASSERT_OK(zx::event::create(0, &event));
  ASSERT_OK(event.signal(0, ZX_EVENT_SIGNALED));
  zx_signals_t pending;
  ASSERT_OK(event.wait_one(ZX_EVENT_SIGNALED, zx::deadline_after(zx::sec(1)), &pending));
  EXPECT_EQ(pending & ZX_EVENT_SIGNALED, ZX_EVENT_SIGNALED);
  zx::handle h(std::move(event));
  EXPECT_TRUE(h.is_valid());
  EXPECT_FALSE(event.is_valid());
}

}  // namespace

int main() {
  int passed = 0, failed = 0;
  // Registered in reverse; run in file order.
  TestCase* order = nullptr;
  while (g_tests != nullptr) {
    TestCase* t = g_tests;
    g_tests = t->next;
    t->next = order;
    order = t;
  }
  for (TestCase* t = order; t != nullptr; t = t->next) {
    bool test_failed = false;
    t->fn(&test_failed);
    printf("[ %s ] %s.%s\n", test_failed ? "FAILED" : "    OK", t->suite, t->name);
    (test_failed ? failed : passed)++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
