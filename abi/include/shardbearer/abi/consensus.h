/*
 * shardbearer/abi/consensus.h — the consensus plugin kind
 * (SB_KIND_CONSENSUS).
 *
 * A consensus plugin is a pure, deterministic state machine for one
 * replication group (an order or the council), in the shape of etcd-io/raft's
 * RawNode: it does no I/O, starts no thread and reads no clock. Randomness
 * (e.g. election timeouts) comes only from the seed the host passes at
 * creation. The host drives every instance:
 *
 *   tick()            advance logical time by one tick
 *   step(bytes)       hand over a message received from a peer
 *   propose(bytes)    ask to replicate an application entry
 *   read_index(ctx)   ask for a linearizable read point
 *   change_membership / transfer_leadership / compact
 *
 * and then drains work in a loop:
 *
 *   while (has_ready(c)) {
 *     ready(c, &rd);                 // plugin-owned arrays, valid until
 *     0. send rd.early_messages      (ABI 1.1; may go before step 1)
 *     1. persist rd.snapshot chunk, rd.entries, rd.hard_state
 *        (one write batch; synced if rd.must_sync)
 *     2. send rd.messages
 *     3. apply rd.committed, answer rd.reads
 *     advance(c);                    // "all of the above is done"
 *   }
 *
 * The order matters: a message may promise that its sender stored an entry
 * or a vote (Raft §5.2, §5.3), so messages go out only once the batch is
 * durable — except early_messages, which the plugin marks as promising
 * nothing about this batch. Committed entries may include entries of the same
 * batch: they are applied after step 1.
 *
 * The log is persisted by the host and read back through a host-provided
 * reader (sb_consensus_log_reader); the plugin never holds the whole log.
 * Hard state, per-entry metadata, snapshot metadata and message bytes are
 * opaque to the host, so a protocol other than Raft fits the same ABI. What
 * the host does see: entry index, entry type, and the payload it proposed.
 *
 * Identifiers: group ids and node ids are non-zero uint64. Node id 0 means
 * "none" (e.g. no known leader). Terms are opaque but comparable uint64
 * values that never decrease on one node.
 *
 * Thread safety: an sb_consensus instance is NOT thread-safe; the host calls
 * it from one thread at a time. Distinct instances are independent (the
 * plugin keeps no global mutable state), so a host may drive many groups on
 * many threads. The log reader is only called from inside a call the host
 * made into the plugin, on the same thread.
 */
#ifndef SHARDBEARER_ABI_CONSENSUS_H_
#define SHARDBEARER_ABI_CONSENSUS_H_

#include "shardbearer/abi/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sb_consensus sb_consensus; /* opaque, owned by plugin */

/* Roles reported by status. */
enum {
  SB_ROLE_FOLLOWER = 0,
  SB_ROLE_PRE_CANDIDATE = 1, /* probing with a pre-vote (Raft §9.6) */
  SB_ROLE_CANDIDATE = 2,
  SB_ROLE_LEADER = 3,
  SB_ROLE_LEARNER = 4 /* receives the log, never votes or campaigns */
};

/* Entry types. The host applies SB_ENTRY_NORMAL payloads to its state
 * machine; SB_ENTRY_PROTOCOL entries (no-ops, membership changes) carry
 * plugin-private payloads that the host stores and ignores when applying,
 * except that their index still advances the applied index. */
enum { SB_ENTRY_NORMAL = 0, SB_ENTRY_PROTOCOL = 1 };

/* Membership operations for change_membership. */
enum {
  SB_MEMBER_ADD_VOTER = 1,   /* add a new node as a voter */
  SB_MEMBER_ADD_LEARNER = 2, /* add a new node as a non-voting learner */
  SB_MEMBER_PROMOTE = 3,     /* turn an existing learner into a voter */
  SB_MEMBER_REMOVE = 4       /* remove a voter or learner (may be self) */
};

/* Member kinds reported by members(). */
enum { SB_MEMBER_VOTER = 1, SB_MEMBER_LEARNER = 2 };

/* One log entry. In a ready batch the spans are owned by the plugin and
 * valid until advance; handed to a reader sink they are borrowed for the
 * call. */
typedef struct sb_consensus_entry {
  uint32_t struct_size;
  uint32_t type;  /* SB_ENTRY_* */
  uint64_t index; /* position in the log, from 1 */
  sb_bytes meta;  /* opaque protocol metadata (Raft: the term); store it */
  sb_bytes data;  /* payload: what was proposed, or protocol data */
} sb_consensus_entry;

/* A message to send to another node of the same group. */
typedef struct sb_consensus_message {
  uint32_t struct_size;
  uint64_t to;   /* destination node id */
  sb_bytes data; /* owned by plugin, valid until advance; pass to the
                    destination's step() unchanged */
} sb_consensus_message;

/* One chunk of an incoming snapshot (sent by the leader to a follower too
 * far behind its log). The host stores chunks in order: offset 0 starts a
 * new snapshot, dropping any partial one. When `done` is set the chunk is
 * the last: in the same persist step the host replaces its state machine
 * with the assembled snapshot, deletes its whole log, records `meta` as the
 * snapshot metadata (returned afterwards by the reader's snapshot_meta) and
 * sets its applied index to `index`. */
typedef struct sb_consensus_snapshot_chunk {
  uint32_t struct_size;
  int32_t done;    /* non-zero: last chunk; install now */
  uint64_t index;  /* last log index the snapshot covers */
  uint64_t offset; /* byte offset of `data` in the snapshot */
  sb_bytes meta;   /* opaque snapshot metadata (owned by plugin) */
  sb_bytes data;   /* chunk bytes (owned by plugin) */
} sb_consensus_snapshot_chunk;

/* A completed read_index request: reads issued after the request may be
 * served once the state machine has applied `index`. */
typedef struct sb_consensus_read_state {
  uint32_t struct_size;
  uint64_t index;
  sb_bytes context; /* the bytes given to read_index (owned by plugin) */
} sb_consensus_read_state;

/* A batch of work. Filled by ready(); every pointer is owned by the plugin
 * and valid until the following advance() or destroy(). */
typedef struct sb_consensus_ready {
  uint32_t struct_size;
  /* Hard state to persist (opaque); len 0 when unchanged. Store it in the
   * same atomic write as `entries`. */
  sb_bytes hard_state;
  /* Entries to append. entries[0].index may be <= the host's last stored
   * index: the host then first deletes its log from that index on (the
   * protocol is overwriting a conflicting suffix). Indexes are consecutive. */
  const sb_consensus_entry* entries;
  size_t entries_count;
  /* Non-zero: hard_state / entries / snapshot must be synced to stable
   * storage before any message of this batch is sent. */
  int32_t must_sync;
  /* A snapshot chunk to store (see sb_consensus_snapshot_chunk); NULL when
   * none. Persist it before `entries`. */
  const sb_consensus_snapshot_chunk* snapshot;
  /* Messages to send after persisting (see also early_messages). */
  const sb_consensus_message* messages;
  size_t messages_count;
  /* Committed entries to apply, in index order, after persisting. */
  const sb_consensus_entry* committed;
  size_t committed_count;
  /* Completed read_index requests. */
  const sb_consensus_read_state* reads;
  size_t reads_count;
  /* ABI 1.1. Messages that promise nothing about what this batch persists
   * (a leader's appends and heartbeats, whose term and vote are already
   * durable): the host may send them BEFORE persisting the batch, so that
   * followers write while the leader does (Raft thesis §10.2.1). A plugin
   * that uses this counts its own copy of the batch only after advance(),
   * never from the early send. Hosts of ABI 1.0
   * do not know the field: a plugin writes it only when the host's
   * struct_size holds it (SB_HAS_FIELD) and otherwise keeps every message
   * in `messages`. */
  const sb_consensus_message* early_messages;
  size_t early_messages_count;
} sb_consensus_ready;

/* ---- The host's view of its persisted log --------------------------------
 *
 * Backed by what the host persisted from earlier ready batches (entries and
 * the last installed or taken snapshot). The log holds [first, last]; the
 * snapshot covers everything up to first - 1. An empty log with no snapshot
 * has first = 1, last = 0. */

typedef void (*sb_consensus_entry_sink)(void* sink_ctx,
                                        const sb_consensus_entry* entry);

typedef struct sb_consensus_log_reader {
  uint32_t struct_size;
  void* ctx; /* owned by host; passed back unchanged */

  /* Index range of stored entries. */
  sb_code (*range)(void* ctx, uint64_t* out_first, uint64_t* out_last,
                   sb_status* st);

  /* Call `sink` for entries lo, lo+1, ... < hi in order, stopping once the
   * payload+meta bytes passed reach max_bytes — but always at least one
   * entry. lo >= first and hi <= last + 1, else SB_NOT_FOUND (compacted or
   * not yet written). */
  sb_code (*entries)(void* ctx, uint64_t lo, uint64_t hi, uint64_t max_bytes,
                     sb_consensus_entry_sink sink, void* sink_ctx,
                     sb_status* st);

  /* Metadata of the current snapshot, as returned by compact() or received
   * in the last chunk of an installed snapshot, passed to `sink` once;
   * *out_index = the index it covers. SB_NOT_FOUND if there is none. */
  sb_code (*snapshot_meta)(void* ctx, uint64_t* out_index, sb_bytes_sink sink,
                           void* sink_ctx, sb_status* st);

  /* Read up to max_bytes of the current snapshot's data from `offset`,
   * passed to `sink` (possibly 0 bytes at the end); *out_done = 1 when the
   * chunk reaches the end. SB_NOT_FOUND if the current snapshot does not
   * cover `index` exactly (it was replaced: start over). */
  sb_code (*snapshot_read)(void* ctx, uint64_t index, uint64_t offset,
                           uint64_t max_bytes, sb_bytes_sink sink,
                           void* sink_ctx, int32_t* out_done, sb_status* st);
} sb_consensus_log_reader;

/* Parameters of create(). */
typedef struct sb_consensus_options {
  uint32_t struct_size;
  uint64_t group_id;
  uint64_t node_id;        /* this node; non-zero */
  uint64_t seed;           /* the only source of randomness */
  const sb_config* config; /* borrowed; the plugin's TOML section */
  /* Borrowed; the table and its ctx stay valid until destroy. */
  const sb_consensus_log_reader* log;
  /* Last persisted hard state (borrowed, copied); len 0 for a new node. */
  sb_bytes hard_state;
  /* Index the host's state machine already reflects (>= the snapshot's
   * index, <= the persisted commit). Committed entries after it will be
   * handed out again. */
  uint64_t applied;
  /* For a brand-new group only (no hard state, empty log, no snapshot):
   * the initial voters, identical on every founding node. Empty: this node
   * joins an existing group and waits to be contacted by its leader.
   * Borrowed array. */
  const uint64_t* bootstrap_voters;
  size_t bootstrap_voters_count;
} sb_consensus_options;

/* Observable state. Filled by status(). */
typedef struct sb_consensus_status {
  uint32_t struct_size;
  uint32_t role;        /* SB_ROLE_* */
  uint64_t term;        /* opaque, comparable, never decreases */
  uint64_t leader;      /* known leader, 0 if none */
  uint64_t commit;      /* highest index known committed */
  uint64_t applied;     /* highest index handed out in `committed` and
                           acknowledged by advance */
  uint64_t last_index;  /* last index in this node's log */
  uint64_t first_index; /* first index still in the log */
  uint32_t voters;      /* number of voters in the active membership */
  uint32_t learners;    /* number of learners */
} sb_consensus_status;

typedef void (*sb_consensus_member_fn)(void* fn_ctx, uint64_t node,
                                       uint32_t kind /* SB_MEMBER_VOTER.. */);

typedef struct sb_consensus_vtable {
  uint32_t struct_size;

  /* Validate a configuration section without creating anything. */
  sb_code (*check_config)(const sb_config* cfg, sb_status* st);

  /* Create an instance. `host` and `opts->log` stay valid until destroy.
   * Reads the log through opts->log to rebuild in-memory indexes. On
   * success *out is owned by the host and released with destroy. */
  sb_code (*create)(const sb_host_services* host,
                    const sb_consensus_options* opts, sb_consensus** out,
                    sb_status* st);
  void (*destroy)(sb_consensus* c); /* NULL is a no-op */

  /* Advance logical time by one tick. */
  void (*tick)(sb_consensus* c);

  /* Process one message (bytes borrowed). Malformed bytes: SB_CORRUPTION,
   * and the instance is unchanged. A message for another node:
   * SB_INVALID_ARGUMENT. */
  sb_code (*step)(sb_consensus* c, sb_bytes msg, sb_status* st);

  /* Propose an application entry (bytes borrowed, copied). On success
   * *out_index (may be NULL) is the index it will have if committed in the
   * current term. Not leader: SB_ABORTED (status() names the leader);
   * leadership transfer in progress: SB_BUSY; payload over the plugin's
   * limit: SB_TOO_LARGE. */
  sb_code (*propose)(sb_consensus* c, sb_bytes data, uint64_t* out_index,
                     sb_status* st);

  /* Request a linearizable read point; the answer arrives in a later ready's
   * `reads` with the same context (bytes borrowed, copied). Not leader:
   * SB_ABORTED. A request may be dropped if leadership is lost: the host
   * times it out (SB_OUTCOME_UNKNOWN is not needed: reads have no effect). */
  sb_code (*read_index)(sb_consensus* c, sb_bytes context, sb_status* st);

  /* Propose a membership change (SB_MEMBER_* op on `node`). Only on the
   * leader, one change at a time: SB_BUSY while another is uncommitted or
   * before the leader committed an entry of its term; SB_ABORTED when not
   * leader; SB_INVALID_ARGUMENT for an impossible change (adding a member,
   * promoting a non-learner, removing a non-member, removing the last
   * voter). Protocols without membership change return SB_NOT_SUPPORTED. */
  sb_code (*change_membership)(sb_consensus* c, uint32_t op, uint64_t node,
                               sb_status* st);

  /* Hand leadership to `target` (a voter). Only on the leader. */
  sb_code (*transfer_leadership)(sb_consensus* c, uint64_t target,
                                 sb_status* st);

  /* The host took a snapshot of its state machine at `index` (<= applied)
   * and will drop log entries <= index. The plugin passes the opaque
   * snapshot metadata to `sink` once; the host stores it with the snapshot
   * data in the same write that deletes the entries, and returns it from
   * the reader's snapshot_meta from then on. */
  sb_code (*compact)(sb_consensus* c, uint64_t index, sb_bytes_sink sink,
                     void* sink_ctx, sb_status* st);

  void (*status)(const sb_consensus* c, sb_consensus_status* out);

  /* Call fn once per member of the active membership. */
  void (*members)(const sb_consensus* c, sb_consensus_member_fn fn,
                  void* fn_ctx);

  /* Non-zero if ready() would return a non-empty batch. */
  int32_t (*has_ready)(const sb_consensus* c);

  /* Fill *out (host-owned, struct_size set by the host) with the next batch.
   * Between ready() and advance() the batch is outstanding: the host may
   * call status, members and has_ready (which returns 0); step, propose,
   * read_index, change_membership, transfer_leadership, compact and ready
   * return SB_BUSY; tick is remembered and applied by advance. */
  sb_code (*ready)(sb_consensus* c, sb_consensus_ready* out, sb_status* st);

  /* The last batch was persisted, sent and applied. */
  sb_code (*advance)(sb_consensus* c, sb_status* st);
} sb_consensus_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SHARDBEARER_ABI_CONSENSUS_H_ */
