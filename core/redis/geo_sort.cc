#include "core/redis/geo_sort.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "core/util/assert.h"

namespace ekv::redis_core {
namespace {

// sort_gp_asc / sort_gp_desc.
int Compare(const GeoPoint& a, const GeoPoint& b, bool descending) {
  int result = 0;
  if (a.distance > b.distance) {
    result = 1;
  } else if (a.distance == b.distance) {
    result = 0;
  } else {
    result = -1;
  }
  return descending ? -result : result;
}

// glibc's msort: halves sorted recursively, merged taking from the left on ties.
void MergeSort(std::vector<GeoPoint*>& items, size_t begin, size_t n, std::vector<GeoPoint*>& tmp,
               bool descending) {
  if (n <= 1) return;
  const size_t n1 = n / 2;
  const size_t n2 = n - n1;
  MergeSort(items, begin, n1, tmp, descending);
  MergeSort(items, begin + n1, n2, tmp, descending);
  size_t left = begin, right = begin + n1, out = 0;
  const size_t left_end = begin + n1, right_end = begin + n;
  while (left < left_end && right < right_end) {
    if (Compare(*items[left], *items[right], descending) <= 0) {
      tmp[out++] = items[left++];
    } else {
      tmp[out++] = items[right++];
    }
  }
  while (left < left_end) tmp[out++] = items[left++];
  // What remains on the right is already in place.
  for (size_t i = 0; i < out; ++i) items[begin + i] = tmp[i];
}

// Redis's pqsort (pqsort.c, from NetBSD's qsort): a quicksort that only recurses into the
// parts overlapping positions [lrange, rrange]. Indices stand for its pointers.
class PartialSort {
 public:
  PartialSort(std::vector<GeoPoint>& a, bool descending, size_t lrange, size_t rrange)
      : a_(a), descending_(descending), lrange_(lrange), rrange_(rrange) {}

  void Run(size_t base, size_t n) {
    for (;;) {
      if (n < 7) {
        for (size_t pm = base + 1; pm < base + n; ++pm) {
          for (size_t pl = pm; pl > base && Cmp(pl - 1, pl) > 0; --pl) Swap(pl, pl - 1);
        }
        return;
      }
      size_t pm = base + n / 2;
      if (n > 7) {
        size_t pl = base;
        size_t pn = base + n - 1;
        if (n > 40) {
          const size_t d = n / 8;
          pl = Med3(pl, pl + d, pl + 2 * d);
          pm = Med3(pm - d, pm, pm + d);
          pn = Med3(pn - 2 * d, pn - d, pn);
        }
        pm = Med3(pl, pm, pn);
      }
      Swap(base, pm);
      // pa, pb, pc, pd as in pqsort.c (signed, as its pointer differences are).
      ptrdiff_t pa = static_cast<ptrdiff_t>(base) + 1, pb = pa;
      ptrdiff_t pc = static_cast<ptrdiff_t>(base + n - 1), pd = pc;
      for (;;) {
        int result = 0;
        while (pb <= pc && (result = Cmp(pb, base)) <= 0) {
          if (result == 0) Swap(pa++, pb);
          pb++;
        }
        while (pb <= pc && (result = Cmp(pc, base)) >= 0) {
          if (result == 0) Swap(pc, pd--);
          pc--;
        }
        if (pb > pc) break;
        Swap(pb++, pc--);
      }
      const ptrdiff_t pn = static_cast<ptrdiff_t>(base + n);
      const ptrdiff_t first = static_cast<ptrdiff_t>(base);
      ptrdiff_t r = std::min(pa - first, pb - pa);
      VecSwap(first, pb - r, r);
      r = std::min(pd - pc, pn - pd - 1);
      VecSwap(pb, pn - r, r);
      if ((r = pb - pa) > 1) {
        if (Overlaps(base, static_cast<size_t>(r))) Run(base, static_cast<size_t>(r));
      }
      // The right part: iterated rather than recursed into, as pqsort does.
      if ((r = pd - pc) <= 1) return;
      base = static_cast<size_t>(pn - r);
      n = static_cast<size_t>(r);
      if (!Overlaps(base, n)) return;
    }
  }

 private:
  int Cmp(ptrdiff_t i, ptrdiff_t j) const { return Compare(a_[i], a_[j], descending_); }
  void Swap(ptrdiff_t i, ptrdiff_t j) { std::swap(a_[i], a_[j]); }
  void VecSwap(ptrdiff_t i, ptrdiff_t j, ptrdiff_t n) {
    for (ptrdiff_t k = 0; k < n; ++k) Swap(i + k, j + k);
  }
  size_t Med3(size_t a, size_t b, size_t c) const {
    return Cmp(a, b) < 0 ? (Cmp(b, c) < 0 ? b : (Cmp(a, c) < 0 ? c : a))
                         : (Cmp(b, c) > 0 ? b : (Cmp(a, c) < 0 ? a : c));
  }
  // Whether positions [begin, begin + n) meet [lrange, rrange] (pqsort compares byte
  // pointers; in whole elements this is the same test).
  bool Overlaps(size_t begin, size_t n) const {
    const size_t end = begin + n;
    return !((lrange_ < begin && rrange_ < begin) || (lrange_ >= end && rrange_ >= end));
  }

  std::vector<GeoPoint>& a_;
  const bool descending_;
  const size_t lrange_;
  const size_t rrange_;
};

}  // namespace

void SortGeoPoints(std::vector<GeoPoint>* points, size_t returned, bool descending) {
  EKV_ASSERT(returned <= points->size(), "more results returned than found");
  if (points->empty()) return;
  if (returned == points->size()) {
    std::vector<GeoPoint*> items;
    items.reserve(points->size());
    for (GeoPoint& point : *points) items.push_back(&point);
    std::vector<GeoPoint*> tmp(items.size());
    MergeSort(items, 0, items.size(), tmp, descending);
    std::vector<GeoPoint> sorted;
    sorted.reserve(points->size());
    for (GeoPoint* item : items) sorted.push_back(std::move(*item));
    *points = std::move(sorted);
    return;
  }
  if (returned == 0) return;
  PartialSort(*points, descending, 0, returned - 1).Run(0, points->size());
}

}  // namespace ekv::redis_core
