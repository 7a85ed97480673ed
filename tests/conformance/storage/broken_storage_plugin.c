/* Deliberately broken storage plugins for the wrapper's vtable check:
 * VARIANT_SHORT declares a vtable smaller than sb_storage_vtable,
 * VARIANT_NULL_MEMBER a full-size one whose members are all NULL. Neither
 * is ever called: sb::Storage must refuse them before that. */
#include "shardbearer/abi/storage.h"

#ifdef VARIANT_SHORT
static const uint32_t kVtable[4] = {sizeof kVtable, 0, 0, 0};
#define NAME "storage-short-vtable"
#else
static const sb_storage_vtable kVtable = {.struct_size =
                                              sizeof(sb_storage_vtable)};
#define NAME "storage-null-member"
#endif

static const sb_plugin_info info = {sizeof(sb_plugin_info),
                                    SB_PLUGIN_MAGIC,
                                    SB_ABI_MAJOR,
                                    SB_ABI_MINOR,
                                    SB_KIND_STORAGE,
                                    NAME,
                                    "0.0.1",
                                    "broken on purpose",
                                    &kVtable};

SB_PLUGIN_EXPORT const sb_plugin_info* shardbearer_plugin_entry(void) {
  return &info;
}
