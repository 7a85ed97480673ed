#include "dump.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "shardbearer/abi/common.h"

namespace sbmem {
namespace {

constexpr char kMagic[8] = {'S', 'B', 'M', 'E', 'M', 'D', 'M', 'P'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t Fnv(uint64_t h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<uint8_t>(data[i]);
    h *= kFnvPrime;
  }
  return h;
}

// Buffered writer to a file descriptor that hashes what it writes.
class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}
  void Bytes(const char* data, size_t n) {
    hash_ = Fnv(hash_, data, n);
    buf_.append(data, n);
    if (buf_.size() >= (1u << 20)) Flush();
  }
  void U8(uint8_t v) { Bytes(reinterpret_cast<const char*>(&v), 1); }
  void U32(uint32_t v) { Fixed(v, 4); }
  void U64(uint64_t v) { Fixed(v, 8); }
  void Str32(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Bytes(s.data(), s.size());
  }
  uint64_t hash() const { return hash_; }
  // False on a write error (errno set).
  bool Flush() {
    size_t off = 0;
    while (off < buf_.size() && ok_) {
      ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok_ = false;
        break;
      }
      off += static_cast<size_t>(n);
    }
    buf_.clear();
    return ok_;
  }
  bool ok() const { return ok_; }

 private:
  void Fixed(uint64_t v, int n) {
    char b[8];
    for (int i = 0; i < n; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    Bytes(b, static_cast<size_t>(n));
  }
  int fd_;
  std::string buf_;
  uint64_t hash_ = kFnvOffset;
  bool ok_ = true;
};

// Bounds-checked reader over the loaded file.
class Reader {
 public:
  Reader(const std::string& data, size_t end) : data_(data), end_(end) {}
  bool Bytes(size_t n, std::string_view* out) {
    if (end_ - pos_ < n) return false;
    *out = std::string_view(data_).substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Fixed(int n, uint64_t* v) {
    std::string_view b;
    if (!Bytes(static_cast<size_t>(n), &b)) return false;
    *v = 0;
    for (int i = 0; i < n; ++i) {
      *v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
    }
    return true;
  }
  bool Str32(std::string_view* out) {
    uint64_t n = 0;
    return Fixed(4, &n) && Bytes(n, out);
  }
  bool done() const { return pos_ == end_; }

 private:
  const std::string& data_;
  size_t end_;
  size_t pos_ = 0;
};

DumpResult Errno(const std::string& what, const std::string& path) {
  return {SB_IO_ERROR, what + " " + path + ": " + std::strerror(errno)};
}

}  // namespace

DumpResult WriteDump(const MemStore& store, const std::string& dir) {
  const std::string tmp = dir + "/" + kDumpFileName + ".tmp";
  const std::string final_path = dir + "/" + kDumpFileName;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  Writer w(fd);
  w.Bytes(kMagic, sizeof kMagic);
  w.U32(kFormatVersion);
  store.ForEachKeyspace([&](const std::string& name, const auto& rows) {
    w.U8('K');
    w.Str32(name);
    w.U64(rows.size());
    for (const auto& [key, value] : rows) {
      w.Str32(key);
      w.Str32(value);
    }
  });
  w.U8('E');
  const uint64_t hash = w.hash();
  w.U64(hash);
  bool ok = w.Flush() && ::fsync(fd) == 0;
  DumpResult result{SB_OK, ""};
  if (!ok) result = Errno("cannot write", tmp);
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    result = Errno("cannot rename to", final_path);
    ok = false;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return result;
  }
  // Make the rename itself durable.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return result;
}

DumpResult LoadDump(const std::string& path, MemStore* store) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Errno("cannot open", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Errno("cannot read", path);
  const std::string data = std::move(ss).str();
  auto corrupt = [&](const char* why) {
    return DumpResult{SB_CORRUPTION, path + ": " + why};
  };
  // Trailer first: 'E' + checksum over everything before it.
  if (data.size() < sizeof kMagic + 4 + 1 + 8) return corrupt("truncated");
  const size_t body = data.size() - 8;
  {
    Reader trailer(data, data.size());
    std::string_view skip;
    uint64_t stored = 0;
    if (!trailer.Bytes(body, &skip) || !trailer.Fixed(8, &stored)) {
      return corrupt("truncated");
    }
    if (Fnv(kFnvOffset, data.data(), body) != stored) {
      return corrupt("checksum mismatch");
    }
  }
  Reader r(data, body);
  std::string_view magic;
  uint64_t version = 0;
  if (!r.Bytes(sizeof kMagic, &magic) ||
      magic != std::string_view(kMagic, sizeof kMagic)) {
    return corrupt("not a storage-mem dump (bad magic)");
  }
  if (!r.Fixed(4, &version) || version != kFormatVersion) {
    return corrupt("unsupported dump format version");
  }
  while (true) {
    uint64_t tag = 0;
    if (!r.Fixed(1, &tag)) return corrupt("truncated");
    if (tag == 'E') break;
    if (tag != 'K') return corrupt("bad record tag");
    std::string_view name;
    uint64_t count = 0;
    if (!r.Str32(&name) || !r.Fixed(8, &count)) return corrupt("truncated");
    if (!ValidKeyspaceName(name)) return corrupt("invalid keyspace name");
    const uint32_t id = store->Keyspace(name);
    std::vector<Op> ops;
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view key, value;
      if (!r.Str32(&key) || !r.Str32(&value)) return corrupt("truncated");
      ops.push_back(Op{Op::kPut, id, std::string(key), std::string(value)});
      if (ops.size() >= 4096) {
        store->Apply(ops);
        ops.clear();
      }
    }
    if (!ops.empty()) store->Apply(ops);
  }
  if (!r.done()) return corrupt("trailing bytes before checksum");
  return {SB_OK, ""};
}

}  // namespace sbmem
