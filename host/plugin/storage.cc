#include "host/plugin/storage.h"

#include <cstddef>
#include <utility>

namespace sb {
namespace storage_internal {

// One open sb_storage. Owns the plugin library through a shared_ptr so the
// .so outlives every pointer taken from it; closes the instance when the
// last owner (Storage, batch, snapshot, iterator) goes away.
struct Instance {
  std::shared_ptr<PluginLibrary> lib;
  const sb_storage_vtable* vt = nullptr;
  sb_host_services host{};  // the copy the plugin keeps a pointer to
  sb_storage* db = nullptr;
  std::string name;

  Instance() = default;
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance() {
    if (db != nullptr) vt->close(db);
  }
};

// One plugin snapshot. Shared by the Snapshot and every iterator made on
// it; released when the last of them goes.
struct SnapshotHandle {
  std::shared_ptr<Instance> instance;
  sb_storage_snapshot* snapshot = nullptr;

  SnapshotHandle(std::shared_ptr<Instance> i, sb_storage_snapshot* s)
      : instance(std::move(i)), snapshot(s) {}
  SnapshotHandle(const SnapshotHandle&) = delete;
  SnapshotHandle& operator=(const SnapshotHandle&) = delete;
  ~SnapshotHandle() { instance->vt->snapshot_release(instance->db, snapshot); }
};

}  // namespace storage_internal

namespace {

using storage_internal::Instance;
using storage_internal::SnapshotHandle;

sb_bytes Bytes(std::string_view s) {
  return sb_bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string_view View(sb_bytes b) {
  if (b.data == nullptr || b.len == 0) return {};
  return {reinterpret_cast<const char*>(b.data), b.len};
}

Status Result(sb_code code, const sb_status& st) {
  return Status::FromAbi(code, st);
}

void AppendToString(void* ctx, const uint8_t* data, size_t len) {
  static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(data),
                                         len);
}

void PushString(void* ctx, const uint8_t* data, size_t len) {
  static_cast<std::vector<std::string>*>(ctx)->emplace_back(
      reinterpret_cast<const char*>(data), len);
}

}  // namespace

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<uint8_t>(s.back()) == 0xff) s.pop_back();
  if (!s.empty())
    s.back() = static_cast<char>(static_cast<uint8_t>(s.back()) + 1);
  return s;
}

// ---- Snapshot --------------------------------------------------------------

Snapshot::Snapshot(std::shared_ptr<SnapshotHandle> h) : handle_(std::move(h)) {}
Snapshot::~Snapshot() = default;

// ---- WriteBatch ------------------------------------------------------------

WriteBatch::WriteBatch(std::shared_ptr<Instance> instance,
                       sb_storage_batch* batch)
    : instance_(std::move(instance)), batch_(batch) {}

WriteBatch::WriteBatch(WriteBatch&& other) noexcept
    : instance_(std::move(other.instance_)),
      batch_(std::exchange(other.batch_, nullptr)) {}

WriteBatch& WriteBatch::operator=(WriteBatch&& other) noexcept {
  if (this != &other) {
    if (batch_ != nullptr) instance_->vt->batch_free(batch_);
    instance_ = std::move(other.instance_);
    batch_ = std::exchange(other.batch_, nullptr);
  }
  return *this;
}

WriteBatch::~WriteBatch() {
  // Free before instance_ drops its reference: the batch may not outlive
  // the open instance.
  if (batch_ != nullptr) instance_->vt->batch_free(batch_);
}

Status WriteBatch::Put(uint32_t keyspace, std::string_view key,
                       std::string_view value) {
  sb_status st{};
  return Result(
      instance_->vt->batch_put(batch_, keyspace, Bytes(key), Bytes(value), &st),
      st);
}

Status WriteBatch::Delete(uint32_t keyspace, std::string_view key) {
  sb_status st{};
  return Result(instance_->vt->batch_delete(batch_, keyspace, Bytes(key), &st),
                st);
}

Status WriteBatch::DeleteRange(uint32_t keyspace, std::string_view begin,
                               std::string_view end) {
  sb_status st{};
  return Result(instance_->vt->batch_delete_range(
                    batch_, keyspace, Bytes(begin), Bytes(end), &st),
                st);
}

void WriteBatch::Clear() { instance_->vt->batch_clear(batch_); }

size_t WriteBatch::Count() const { return instance_->vt->batch_count(batch_); }

size_t WriteBatch::ApproximateBytes() const {
  return instance_->vt->batch_bytes(batch_);
}

// ---- Iterator --------------------------------------------------------------

Iterator::Iterator(std::shared_ptr<Instance> instance,
                   std::shared_ptr<SnapshotHandle> snapshot,
                   sb_storage_iter* it)
    : instance_(std::move(instance)), snapshot_(std::move(snapshot)), it_(it) {}

Iterator::Iterator(Iterator&& other) noexcept
    : instance_(std::move(other.instance_)),
      snapshot_(std::move(other.snapshot_)),
      it_(std::exchange(other.it_, nullptr)) {}

Iterator& Iterator::operator=(Iterator&& other) noexcept {
  if (this != &other) {
    Reset();
    instance_ = std::move(other.instance_);
    snapshot_ = std::move(other.snapshot_);
    it_ = std::exchange(other.it_, nullptr);
  }
  return *this;
}

Iterator::~Iterator() { Reset(); }

void Iterator::Reset() {
  // Order matters: the iterator goes first, then the snapshot it reads,
  // then (through instance_) the instance itself.
  if (it_ != nullptr) instance_->vt->iter_free(it_);
  it_ = nullptr;
  snapshot_.reset();
  instance_.reset();
}

void Iterator::SeekToFirst() { instance_->vt->iter_seek_first(it_); }
void Iterator::SeekToLast() { instance_->vt->iter_seek_last(it_); }
void Iterator::Seek(std::string_view target) {
  instance_->vt->iter_seek(it_, Bytes(target));
}
void Iterator::SeekForPrev(std::string_view target) {
  instance_->vt->iter_seek_for_prev(it_, Bytes(target));
}
bool Iterator::Valid() const { return instance_->vt->iter_valid(it_) != 0; }
void Iterator::Next() { instance_->vt->iter_next(it_); }
void Iterator::Prev() { instance_->vt->iter_prev(it_); }
std::string_view Iterator::key() const {
  return View(instance_->vt->iter_key(it_));
}
std::string_view Iterator::value() const {
  return View(instance_->vt->iter_value(it_));
}
Status Iterator::status() const {
  sb_status st{};
  return Result(instance_->vt->iter_status(it_, &st), st);
}

// ---- Storage ---------------------------------------------------------------

Storage::Storage(std::shared_ptr<Instance> instance)
    : instance_(std::move(instance)) {}

Status Storage::CheckPlugin(const PluginLibrary& lib) {
  if (lib.kind() != SB_KIND_STORAGE) {
    return Status::InvalidArgument("plugin '" + lib.name() + "' is a " +
                                   KindName(lib.kind()) +
                                   " plugin, not a storage plugin");
  }
  const auto* vt = static_cast<const sb_storage_vtable*>(lib.vtable());
  // This host calls every member up to and including `sync`.
  const size_t need = offsetof(sb_storage_vtable, sync) + sizeof(vt->sync);
  if (vt == nullptr || vt->struct_size < need) {
    return Status::InvalidArgument(
        "storage plugin '" + lib.name() + "' (" + lib.path() + "): vtable of " +
        std::to_string(vt == nullptr ? 0 : vt->struct_size) +
        " bytes, this host needs at least " + std::to_string(need));
  }
  const void* const members[] = {
      reinterpret_cast<const void*>(vt->check_config),
      reinterpret_cast<const void*>(vt->open),
      reinterpret_cast<const void*>(vt->close),
      reinterpret_cast<const void*>(vt->keyspace),
      reinterpret_cast<const void*>(vt->list_keyspaces),
      reinterpret_cast<const void*>(vt->get),
      reinterpret_cast<const void*>(vt->put),
      reinterpret_cast<const void*>(vt->del),
      reinterpret_cast<const void*>(vt->batch_new),
      reinterpret_cast<const void*>(vt->batch_free),
      reinterpret_cast<const void*>(vt->batch_clear),
      reinterpret_cast<const void*>(vt->batch_put),
      reinterpret_cast<const void*>(vt->batch_delete),
      reinterpret_cast<const void*>(vt->batch_delete_range),
      reinterpret_cast<const void*>(vt->batch_count),
      reinterpret_cast<const void*>(vt->batch_bytes),
      reinterpret_cast<const void*>(vt->write),
      reinterpret_cast<const void*>(vt->snapshot_new),
      reinterpret_cast<const void*>(vt->snapshot_release),
      reinterpret_cast<const void*>(vt->iter_new),
      reinterpret_cast<const void*>(vt->iter_free),
      reinterpret_cast<const void*>(vt->iter_seek_first),
      reinterpret_cast<const void*>(vt->iter_seek_last),
      reinterpret_cast<const void*>(vt->iter_seek),
      reinterpret_cast<const void*>(vt->iter_seek_for_prev),
      reinterpret_cast<const void*>(vt->iter_valid),
      reinterpret_cast<const void*>(vt->iter_next),
      reinterpret_cast<const void*>(vt->iter_prev),
      reinterpret_cast<const void*>(vt->iter_key),
      reinterpret_cast<const void*>(vt->iter_value),
      reinterpret_cast<const void*>(vt->iter_status),
      reinterpret_cast<const void*>(vt->checkpoint),
      reinterpret_cast<const void*>(vt->approximate_size),
      reinterpret_cast<const void*>(vt->sync),
  };
  for (size_t i = 0; i < std::size(members); ++i) {
    if (members[i] == nullptr) {
      return Status::InvalidArgument("storage plugin '" + lib.name() +
                                     "': vtable member #" + std::to_string(i) +
                                     " after flags is NULL");
    }
  }
  return Status::OK();
}

Status Storage::CheckConfig(const std::shared_ptr<PluginLibrary>& lib,
                            const sb_config& config) {
  SB_RETURN_IF_ERROR(CheckPlugin(*lib));
  const auto* vt = static_cast<const sb_storage_vtable*>(lib->vtable());
  sb_status st{};
  return Result(vt->check_config(&config, &st), st);
}

StatusOr<Storage> Storage::Open(std::shared_ptr<PluginLibrary> lib,
                                const sb_host_services& host,
                                const std::string& data_dir,
                                const sb_config& config) {
  if (lib == nullptr) return Status::InvalidArgument("no storage plugin");
  SB_RETURN_IF_ERROR(CheckPlugin(*lib));
  auto instance = std::make_shared<Instance>();
  instance->vt = static_cast<const sb_storage_vtable*>(lib->vtable());
  instance->name = lib->name();
  instance->lib = std::move(lib);
  instance->host = host;
  instance->host.struct_size = sizeof(sb_host_services);
  sb_status st{};
  sb_code rc = instance->vt->open(&instance->host, data_dir.c_str(), &config,
                                  &instance->db, &st);
  if (rc != SB_OK) {
    instance->db = nullptr;
    return Result(rc, st).Annotate("opening storage in '" + data_dir + "'");
  }
  if (instance->db == nullptr) {
    return Status::Internal("storage plugin '" + instance->name +
                            "' returned OK from open without an instance");
  }
  return Storage(std::move(instance));
}

const std::string& Storage::plugin_name() const { return instance_->name; }

bool Storage::durable() const {
  return (instance_->vt->flags & SB_STORAGE_DURABLE) != 0;
}

StatusOr<uint32_t> Storage::Keyspace(std::string_view name) {
  // The ABI takes a NUL-terminated name: an embedded NUL would silently
  // truncate it, so refuse it here.
  if (name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("keyspace name contains a NUL byte");
  }
  const std::string n(name);
  uint32_t id = 0;
  sb_status st{};
  sb_code rc = instance_->vt->keyspace(instance_->db, n.c_str(), &id, &st);
  if (rc != SB_OK) return Result(rc, st);
  return id;
}

StatusOr<std::vector<std::string>> Storage::ListKeyspaces() const {
  std::vector<std::string> names;
  sb_status st{};
  sb_code rc =
      instance_->vt->list_keyspaces(instance_->db, PushString, &names, &st);
  if (rc != SB_OK) return Result(rc, st);
  return names;
}

Status Storage::Get(uint32_t keyspace, std::string_view key, std::string* value,
                    const Snapshot* snapshot) const {
  value->clear();
  sb_status st{};
  const sb_storage_snapshot* snap =
      snapshot != nullptr && snapshot->handle_ != nullptr
          ? snapshot->handle_->snapshot
          : nullptr;
  return Result(instance_->vt->get(instance_->db, keyspace, snap, Bytes(key),
                                   AppendToString, value, &st),
                st);
}

Status Storage::Put(uint32_t keyspace, std::string_view key,
                    std::string_view value, bool sync) {
  sb_status st{};
  return Result(instance_->vt->put(instance_->db, keyspace, Bytes(key),
                                   Bytes(value), sync ? 1 : 0, &st),
                st);
}

Status Storage::Delete(uint32_t keyspace, std::string_view key, bool sync) {
  sb_status st{};
  return Result(instance_->vt->del(instance_->db, keyspace, Bytes(key),
                                   sync ? 1 : 0, &st),
                st);
}

StatusOr<WriteBatch> Storage::NewBatch() {
  sb_storage_batch* b = instance_->vt->batch_new(instance_->db);
  if (b == nullptr) {
    return Status::Internal("storage plugin '" + instance_->name +
                            "' could not create a write batch");
  }
  return WriteBatch(instance_, b);
}

Status Storage::Write(const WriteBatch& batch, bool sync) {
  if (batch.batch_ == nullptr) {
    return Status::InvalidArgument("write of a moved-from batch");
  }
  sb_status st{};
  return Result(
      instance_->vt->write(instance_->db, batch.batch_, sync ? 1 : 0, &st), st);
}

StatusOr<Snapshot> Storage::NewSnapshot() const {
  sb_storage_snapshot* s = instance_->vt->snapshot_new(instance_->db);
  if (s == nullptr) {
    return Status::Internal("storage plugin '" + instance_->name +
                            "' could not create a snapshot");
  }
  return Snapshot(std::make_shared<SnapshotHandle>(instance_, s));
}

StatusOr<Iterator> Storage::NewIterator(uint32_t keyspace,
                                        const IterOptions& options) const {
  sb_storage_iter_options opts{};
  opts.struct_size = sizeof opts;
  std::shared_ptr<SnapshotHandle> snap;
  if (options.snapshot != nullptr && options.snapshot->handle_ != nullptr) {
    snap = options.snapshot->handle_;
    opts.snapshot = snap->snapshot;
  }
  opts.lower_bound = Bytes(options.lower_bound);
  opts.upper_bound = Bytes(options.upper_bound);
  sb_status st{};
  sb_storage_iter* it =
      instance_->vt->iter_new(instance_->db, keyspace, &opts, &st);
  if (it == nullptr) {
    if (st.code == SB_OK) {
      return Status::Internal("storage plugin '" + instance_->name +
                              "' returned no iterator and no error");
    }
    return Status::FromAbi(st);
  }
  return Iterator(instance_, std::move(snap), it);
}

StatusOr<Iterator> Storage::NewPrefixIterator(uint32_t keyspace,
                                              std::string_view prefix,
                                              const Snapshot* snapshot) const {
  IterOptions options;
  options.snapshot = snapshot;
  options.lower_bound = std::string(prefix);
  options.upper_bound = PrefixSuccessor(prefix);
  return NewIterator(keyspace, options);
}

Status Storage::Checkpoint(const std::string& dir) {
  sb_status st{};
  return Result(instance_->vt->checkpoint(instance_->db, dir.c_str(), &st), st);
}

StatusOr<uint64_t> Storage::ApproximateSize(uint32_t keyspace,
                                            std::string_view begin,
                                            std::string_view end) const {
  uint64_t size = 0;
  sb_status st{};
  sb_code rc = instance_->vt->approximate_size(
      instance_->db, keyspace, Bytes(begin), Bytes(end), &size, &st);
  if (rc != SB_OK) return Result(rc, st);
  return size;
}

Status Storage::Sync() {
  sb_status st{};
  return Result(instance_->vt->sync(instance_->db, &st), st);
}

}  // namespace sb
