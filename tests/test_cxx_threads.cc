// SPDX-License-Identifier: BSD-3-Clause
// The C++ layer from many threads at once (also run under ThreadSanitizer): mappers
// sharing one fzl::VmarManager through fbl::RefPtr copies, handles duplicated, moved and
// borrowed across threads, and the region destroyed by whichever thread drops the last
// reference.
#include <criterion/criterion.h>
#include <fbl/ref_ptr.h>
#include <lib/fzl/vmar-manager.h>
#include <lib/fzl/vmo-mapper.h>
#include <lib/zx/event.h>
#include <lib/zx/handle.h>
#include <lib/zx/vmar.h>
#include <lib/zx/vmo.h>
#include <string.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

static constexpr int kThreads = 4;
static constexpr int kRounds = 40;

Test(cxx_threads, mappers_share_a_vmar_manager) {
  const uint64_t page = zx_system_get_page_size();
  fbl::RefPtr<fzl::VmarManager> manager =
      fzl::VmarManager::Create(kThreads * 4 * page, nullptr,
                               ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE);
  cr_assert(manager != nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; r++) {
        fbl::RefPtr<fzl::VmarManager> mine = manager;  // concurrent reference counting
        fzl::VmoMapper mapper;
        zx::vmo vmo;
        if (mapper.CreateAndMap(2 * page, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, mine, &vmo) !=
            ZX_OK) {
          failures++;
          continue;
        }
        auto* p = static_cast<uint8_t*>(mapper.start());
        memset(p, t * 16 + r % 16, 2 * page);
        uint8_t b = 0;
        if (vmo.read(&b, page + 7, 1) != ZX_OK || b != t * 16 + r % 16) {
          failures++;
        }
        zx::vmo dup;
        if (vmo.duplicate(ZX_RIGHT_READ, &dup) != ZX_OK) {
          failures++;
        }
        zx::handle h(std::move(dup));
        zx::unowned_vmo borrowed(h.get());
        uint64_t size = 0;
        if (borrowed->get_size(&size) != ZX_OK || size != 2 * page) {
          failures++;
        }
      }  // mapper unmaps, handles close
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  cr_assert_eq(failures.load(), 0);
  cr_assert_eq(manager->ref_count_debug(), 1);
}

Test(cxx_threads, last_reference_destroys_from_any_thread) {
  const uint64_t page = zx_system_get_page_size();
  for (int round = 0; round < 10; round++) {
    fbl::RefPtr<fzl::VmarManager> manager = fzl::VmarManager::Create(8 * page);
    cr_assert(manager != nullptr);
    zx::vmo vmo;
    cr_assert_eq(zx::vmo::create(page, 0, &vmo), ZX_OK);
    zx_vaddr_t addr = 0;
    cr_assert_eq(manager->vmar().map(ZX_VM_PERM_READ, 0, vmo, 0, page, &addr), ZX_OK);
    std::vector<fbl::RefPtr<fzl::VmarManager>> refs(kThreads, manager);
    manager.reset();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&refs, t] { refs[t].reset(); });
    }
    for (auto& th : threads) {
      th.join();
    }
    zx_info_vmo_t info{};
    cr_assert_eq(vmo.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
    cr_assert_eq(info.num_mappings, 0u);
  }
}

Test(cxx_threads, waiters_on_an_event) {
  zx::event event;
  cr_assert_eq(zx::event::create(0, &event), ZX_OK);
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&] {
      zx::event mine;
      if (event.duplicate(ZX_RIGHT_SAME_RIGHTS, &mine) != ZX_OK) {
        return;
      }
      zx_signals_t pending = 0;
      if (mine.wait_one(ZX_USER_SIGNAL_0, zx::deadline_after(zx::sec(30)), &pending) == ZX_OK &&
          (pending & ZX_USER_SIGNAL_0)) {
        woken++;
      }
    });
  }
  cr_assert_eq(event.signal(0, ZX_USER_SIGNAL_0), ZX_OK);
  for (auto& th : threads) {
    th.join();
  }
  cr_assert_eq(woken.load(), kThreads);
}
