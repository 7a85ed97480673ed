/* One source, several deliberately good or broken plugins for the loader
 * tests; the VARIANT_* definition picks which. */
#include "shardbearer/abi/common.h"

static const uint32_t kVtable[4] = {sizeof kVtable, 0, 0, 0};

static sb_plugin_info info = {
    sizeof(sb_plugin_info),
#ifdef VARIANT_BAD_MAGIC
    0xdeadbeefU,
#else
    SB_PLUGIN_MAGIC,
#endif
#ifdef VARIANT_WRONG_MAJOR
    SB_ABI_MAJOR + 1,
#else
    SB_ABI_MAJOR,
#endif
    SB_ABI_MINOR,
#ifdef VARIANT_WRONG_KIND
    SB_KIND_TRANSPORT,
#else
    SB_KIND_STORAGE,
#endif
    "test-plugin",
    "9.9.9",
    "loader test plugin",
    kVtable};

#ifndef VARIANT_NO_SYMBOL
SB_PLUGIN_EXPORT const sb_plugin_info* shardbearer_plugin_entry(void) {
#ifdef VARIANT_NULL_DESCRIPTOR
  (void)info;
  return NULL;
#else
  return &info;
#endif
}
#else
SB_PLUGIN_EXPORT int some_other_symbol(void) { return info.kind != 0; }
#endif
