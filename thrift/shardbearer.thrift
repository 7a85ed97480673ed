/*
 * shardbearer.thrift — Shardbearer's wire contract.
 *
 * One IDL for everything that crosses a socket:
 *   - Kv     the public key-value service (client port);
 *   - Admin  the operator service (client port, same server as Kv);
 *   - peer frames exchanged between radiants by the transport-thrift plugin
 *     (peer port): a handshake, then envelopes that batch opaque messages.
 *
 * Protocol stack, everywhere: framed transport (4-byte big-endian length,
 * then the payload) + binary protocol. Any language with a Thrift compiler
 * generates a client: `thrift --gen <lang> shardbearer.thrift`.
 *
 * Versioning. PROTOCOL_VERSION is carried in the peer handshake and in every
 * envelope. Compatible changes (new optional fields, new methods, new union
 * members) keep the version; a peer that sees a field or union member it does
 * not know skips it, as Thrift does. An incompatible change bumps
 * PROTOCOL_VERSION and a node refuses peers of another version. Field ids are
 * never reused. Clients of the Kv/Admin services need no version: new fields
 * are optional and old clients ignore them.
 *
 * Sizes. Keys and values are arbitrary bytes (`binary`). The server enforces
 * [limits] max_key_bytes, max_value_bytes and max_batch_ops and answers
 * TooLarge or InvalidArgument; the transport enforces max_frame_bytes.
 */

namespace cpp shardbearer.wire
namespace py shardbearer_wire
namespace go shardbearer_wire
namespace java org.shardbearer.wire

/* Version of the peer protocol (handshake and envelope). */
const i32 PROTOCOL_VERSION = 1

/* Oldest peer protocol version this build still accepts. */
const i32 MIN_PROTOCOL_VERSION = 1

/* ======================================================================
 * Errors. Every error is a typed exception carrying a fixed code; no method
 * ever fails with a bare string. Codes are fixed forever.
 * ====================================================================== */

enum ErrorCode {
  /* The key's shard is not served by the order that received the request
   * (configuration changed). Retry after refreshing the configuration. */
  WRONG_GROUP = 1,
  /* The receiving radiant is not its order's herald. leader_hint names the
   * herald when known. Retry there. */
  WRONG_LEADER = 2,
  /* No answer in time: the outcome is UNKNOWN (a write may or may not have
   * been applied). Retry with the same client id and sequence to make it
   * exactly-once. */
  TIMEOUT = 3,
  /* A key, value or batch is over the server's limits. Do not retry. */
  TOO_LARGE = 4,
  /* The node is starting, has no cluster, or the shard is migrating in.
   * Retry later (after retry_after_ms when set). */
  NOT_READY = 5,
  /* The request is malformed (empty key, sequence 0, unknown node id, ...).
   * Do not retry. */
  INVALID_ARGUMENT = 6
}

exception WrongGroup {
  1: ErrorCode code = ErrorCode.WRONG_GROUP,
  2: string message,
  /* Shard of the key, and the configuration number the server used. */
  3: i32 shard,
  4: i64 config_num
}

exception WrongLeader {
  1: ErrorCode code = ErrorCode.WRONG_LEADER,
  2: string message,
  /* Client address ("host:port") of the herald, empty when unknown. */
  3: string leader_hint,
  /* Node id of the herald, 0 when unknown. */
  4: i64 leader_node_id
}

exception Timeout {
  1: ErrorCode code = ErrorCode.TIMEOUT,
  2: string message
}

exception TooLarge {
  1: ErrorCode code = ErrorCode.TOO_LARGE,
  2: string message,
  /* "key", "value" or "batch". */
  3: string subject,
  /* The offending size and the limit (bytes, or operations for "batch"). */
  4: i64 size,
  5: i64 max_allowed
}

exception NotReady {
  1: ErrorCode code = ErrorCode.NOT_READY,
  2: string message,
  /* Suggested wait before retrying, 0 when the server has no estimate. */
  3: i32 retry_after_ms
}

exception InvalidArgument {
  1: ErrorCode code = ErrorCode.INVALID_ARGUMENT,
  2: string message
}

/* ======================================================================
 * Kv — the public key-value service.
 *
 * Semantics: every operation is linearizable. Reads need no log write.
 * Writes carry a WriteId: a client picks a random non-zero client_id once
 * and numbers its writes 1, 2, 3, ...; a retried write (same client_id and
 * sequence) is applied at most once and answers the first outcome. A client
 * has at most one write outstanding per client_id. Sessions are kept per
 * shard and expire after [cluster] session_expiry_ms without a write on
 * that shard; a retry that arrives after its session expired is applied
 * again, so a client must not retry a write for longer than that window.
 *
 * Not offered: range scans (keys are hash-partitioned; there is no global
 * order), transactions across keys, TTLs, watches. multi_get reads each key
 * linearizably but not as one atomic snapshot across shards.
 *
 * Shard of a key: shard = fnv1a_64(key) mod shards (FNV-1a 64-bit, offset
 * basis 14695981039346656037, prime 1099511628211), `shards` from
 * Admin.query_config. Any node answers any key (it forwards); a client that
 * routes by itself avoids the extra hop.
 * ====================================================================== */

struct WriteId {
  1: i64 client_id,
  2: i64 sequence
}

struct GetRequest {
  1: binary key,
  /* Set by a radiant that forwards the request (and by clients that route
   * by themselves): the receiver answers from its own order or refuses with
   * WrongLeader / WrongGroup; it never forwards again. */
  2: optional bool no_forward
}

struct GetResult {
  1: bool found,
  2: optional binary value
}

struct PutRequest {
  1: binary key,
  2: binary value,
  3: WriteId write_id,
  /* See GetRequest.no_forward. */
  4: optional bool no_forward
}

struct PutResult {
  /* Index in the order's log that applied the write (for diagnostics). */
  1: i64 applied_index
}

struct AppendRequest {
  1: binary key,
  /* Appended to the current value; a missing key counts as empty. The
   * resulting value must fit max_value_bytes. */
  2: binary value,
  3: WriteId write_id,
  /* See GetRequest.no_forward. */
  4: optional bool no_forward
}

struct AppendResult {
  1: i64 applied_index,
  /* Size in bytes of the value after the append. */
  2: i64 new_size
}

struct DeleteRequest {
  1: binary key,
  2: WriteId write_id,
  /* See GetRequest.no_forward. */
  3: optional bool no_forward
}

struct DeleteResult {
  1: bool existed,
  2: i64 applied_index
}

/* Compare-and-set: if the current value equals `expected` (absent expected:
 * the key must not exist), replace it with `new_value` (absent new_value:
 * delete the key). */
struct CasRequest {
  1: binary key,
  2: optional binary expected,
  3: optional binary new_value,
  4: WriteId write_id,
  /* See GetRequest.no_forward. */
  5: optional bool no_forward
}

struct CasResult {
  1: bool succeeded,
  /* The value before the operation (absent when the key did not exist). */
  2: optional binary current,
  3: i64 applied_index
}

struct MultiGetRequest {
  /* At most max_batch_ops keys. */
  1: list<binary> keys,
  /* See GetRequest.no_forward. */
  2: optional bool no_forward
}

struct MultiGetResult {
  /* One result per requested key, same order. */
  1: list<GetResult> results
}

service Kv {
  GetResult get(1: GetRequest request)
      throws (1: WrongGroup wrong_group, 2: WrongLeader wrong_leader,
              3: Timeout timeout, 4: TooLarge too_large,
              5: NotReady not_ready, 6: InvalidArgument invalid_argument)

  PutResult put(1: PutRequest request)
      throws (1: WrongGroup wrong_group, 2: WrongLeader wrong_leader,
              3: Timeout timeout, 4: TooLarge too_large,
              5: NotReady not_ready, 6: InvalidArgument invalid_argument)

  AppendResult append(1: AppendRequest request)
      throws (1: WrongGroup wrong_group, 2: WrongLeader wrong_leader,
              3: Timeout timeout, 4: TooLarge too_large,
              5: NotReady not_ready, 6: InvalidArgument invalid_argument)

  DeleteResult remove(1: DeleteRequest request)
      throws (1: WrongGroup wrong_group, 2: WrongLeader wrong_leader,
              3: Timeout timeout, 4: TooLarge too_large,
              5: NotReady not_ready, 6: InvalidArgument invalid_argument)

  CasResult compare_and_set(1: CasRequest request)
      throws (1: WrongGroup wrong_group, 2: WrongLeader wrong_leader,
              3: Timeout timeout, 4: TooLarge too_large,
              5: NotReady not_ready, 6: InvalidArgument invalid_argument)

  MultiGetResult multi_get(1: MultiGetRequest request)
      throws (1: WrongGroup wrong_group, 2: WrongLeader wrong_leader,
              3: Timeout timeout, 4: TooLarge too_large,
              5: NotReady not_ready, 6: InvalidArgument invalid_argument)
}

/* ======================================================================
 * Admin — the operator service (shardbearer-ctl speaks it).
 *
 * Kv and Admin are served on the same client port without a multiplexed
 * protocol: method names are unique across the two services, so a plain
 * generated client of either service works. Keep them unique.
 *
 * Mutating calls go to the controller (any node forwards) and return once
 * the council committed the change; the change itself (rebalancing, shard
 * moves) proceeds asynchronously and shows in later configurations.
 * ====================================================================== */

enum NodeRole {
  RADIANT = 1,    /* member of an order, not its herald */
  HERALD = 2,     /* leader of its order */
  CONTROLLER = 3, /* herald and council leader */
  SPARE = 4,      /* registered, waiting for an order */
  JOINING = 5,    /* not yet registered with a cluster */
  LEAVING = 6
}

/* The node's packet classifier ([classifier], docs/classifier.md). Counters
 * are packets since the classifier was attached, summed over CPUs. */
struct ClassifierStatus {
  /* The plugin named in [classifier]. */
  1: string plugin,
  /* True when its programs are attached; false: the node runs without it
   * (disabled_reason says why). */
  2: bool attached,
  3: string interface_name,
  4: string disabled_reason,
  /* Ingress: passed from an ALLOW source to a protected or join port. */
  5: i64 allowed,
  /* Ingress: dropped at a protected or join port (DENY or unknown source). */
  6: i64 dropped,
  /* Ingress: unknown sources' connection attempts to the join port that
   * got / did not get a join token. */
  7: i64 join_admitted,
  8: i64 join_limited,
  /* Ingress: malformed IP headers, and ports unknown from a non-ALLOW
   * source (dropped). */
  9: i64 malformed,
  /* Ingress: not for a node port, or not TCP/UDP/IP (passed unjudged). */
  10: i64 passed,
  /* Egress: packets given the peer / client priority. */
  11: i64 egress_peer_marked,
  12: i64 egress_client_marked,
  /* The ports the node protects, and the join port (0 = none). */
  13: i32 client_port,
  14: i32 peer_port,
  15: i32 join_port
}

struct NodeStatus {
  1: i64 node_id,
  2: string version,
  3: string cluster_id,
  /* Client (Kv/Admin) and peer addresses, "host:port". */
  4: string client_address,
  5: string peer_address,
  6: NodeRole role,
  /* Order this radiant belongs to, 0 when none. */
  7: i64 order_id,
  /* Latest configuration number this node knows, 0 before the first. */
  8: i64 config_num,
  9: i64 uptime_ms,
  10: bool autonomy_paused,
  /* Names of the loaded plugins, "kind=name version". */
  11: list<string> plugins,
  /* The operator's name for the node ([node] id in its config file); the
   * numeric node_id is what the protocol uses. */
  12: string node_name,
  /* Set when [classifier] is configured (attached or not). */
  13: optional ClassifierStatus classifier
}

struct Radiant {
  1: i64 node_id,
  2: string client_address,
  3: string peer_address,
  /* The operator's name for the node ([node] id). */
  4: string node_name
}

struct Order {
  1: i64 order_id,
  2: list<i64> members,
  /* Node id of the herald, 0 when unknown. */
  3: i64 herald
}

/* The numbered cluster configuration (shard -> order, order -> radiants). */
struct Configuration {
  1: i64 num,
  2: i32 shards,
  /* shard_owner[s] = order id owning shard s, 0 = unassigned. */
  3: list<i64> shard_owner,
  4: list<Order> orders,
  5: list<Radiant> radiants,
  6: list<i64> spares,
  7: bool autonomy_paused
}

struct InitRequest {
  /* Empty: the node generates one. */
  1: string cluster_id
}

struct JoinRequest {
  1: i64 node_id,
  2: string client_address,
  3: string peer_address
}

struct NodeRequest {
  1: i64 node_id
}

struct MoveRequest {
  1: i32 shard,
  2: i64 order_id
}

struct AdminResult {
  /* Configuration number that records the change (0 if none was needed). */
  1: i64 config_num,
  2: string message
}

service Admin {
  /* This node's own view; answered locally, never forwarded. */
  NodeStatus status()
      throws (1: NotReady not_ready)

  /* Configuration `num`, or the latest when num < 0. */
  Configuration query_config(1: i64 num)
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready, 4: InvalidArgument invalid_argument)

  /* Form a new cluster with this node as its first order and council. */
  AdminResult init(1: InitRequest request)
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready, 4: InvalidArgument invalid_argument)

  /* Register a radiant. */
  AdminResult join(1: JoinRequest request)
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready, 4: InvalidArgument invalid_argument)

  /* Graceful leave: transfer leadership, hand off shards, then go. */
  AdminResult leave(1: NodeRequest request)
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready, 4: InvalidArgument invalid_argument)

  /* Assign one shard to one order by hand. */
  AdminResult move(1: MoveRequest request)
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready, 4: InvalidArgument invalid_argument)

  /* Move a radiant's roles and data away, keeping it registered as spare. */
  AdminResult drain(1: NodeRequest request)
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready, 4: InvalidArgument invalid_argument)

  /* Forget a radiant that is gone for good (no hand-off). */
  AdminResult remove_node(1: NodeRequest request)
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready, 4: InvalidArgument invalid_argument)

  /* Killswitch: stop / restart every autonomous action (rebalancing,
   * replacement of failed radiants, council top-up). */
  AdminResult pause_autonomy()
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready)
  AdminResult resume_autonomy()
      throws (1: WrongLeader wrong_leader, 2: Timeout timeout,
              3: NotReady not_ready)
}

/* ======================================================================
 * Peer protocol (transport-thrift, peer port).
 *
 * One long-lived TCP (optionally mutual-TLS) connection per ordered pair of
 * radiants: the sender dials, the receiver only reads envelopes (traffic the
 * other way uses the other direction's connection). Every frame is a
 * PeerFrame.
 *
 *   1. dialer   -> listener: PeerFrame.handshake
 *   2. listener -> dialer  : PeerFrame.handshake_reply (accepted or not);
 *      on refusal the listener logs the reason and closes.
 *   3. dialer   -> listener: PeerFrame.envelope, repeatedly.
 *
 * The transport treats messages as opaque bytes. The host encodes each one
 * as a PeerMessage (binary protocol) below.
 * ====================================================================== */

struct Handshake {
  1: i32 protocol_version,
  2: string cluster_id,
  3: i64 sender_node_id,
  /* Node id the dialer believes it reached; the listener checks it. */
  4: i64 receiver_node_id,
  /* Largest frame the dialer accepts (informational). */
  5: i64 max_frame_bytes
}

struct HandshakeReply {
  1: i32 protocol_version,
  2: bool accepted,
  /* Why the handshake was refused; empty when accepted. */
  3: string reason,
  4: i64 node_id
}

/* A batch of messages from one radiant to another. */
struct Envelope {
  1: i32 protocol_version,
  /* Opaque to the transport; each is one `send` of the host. */
  2: list<binary> messages
}

union PeerFrame {
  1: Handshake handshake,
  2: HandshakeReply handshake_reply,
  3: Envelope envelope
}

/* ---- What the host puts in Envelope.messages --------------------------- */

/* A consensus message of one group (an order or the council), opaque to
 * the host: produced and consumed by the consensus plugin. */
struct ConsensusMessage {
  /* Group id: an order id, or 0 for the council. */
  1: i64 group_id,
  2: binary payload
}

/* New owner -> previous owner: send me shard `shard` as of configuration
 * `config_num`, starting after key `resume_after` (empty: from the start). */
struct MigrationRequest {
  1: i64 config_num,
  2: i32 shard,
  3: i64 from_order,
  4: i64 to_order,
  5: binary resume_after,
  6: i64 request_id
}

struct KeyValue {
  1: binary key,
  2: binary value
}

/* Previous owner -> new owner: one chunk of a shard. The last chunk carries
 * the client-session table of the shard. */
struct MigrationChunk {
  1: i64 config_num,
  2: i32 shard,
  3: i64 request_id,
  4: i64 chunk_seq,
  5: list<KeyValue> entries,
  6: bool last,
  7: optional binary sessions
}

/* New owner -> previous owner: shard installed, delete your copy. */
struct MigrationDone {
  1: i64 config_num,
  2: i32 shard
}

/* Liveness and progress poll (herald -> member, controller -> herald). */
struct Poll {
  1: i64 poll_id,
  2: i64 config_num,
  3: i64 sent_wall_ns
}

struct PollReply {
  1: i64 poll_id,
  2: i64 config_num,
  3: NodeRole role,
  4: i64 order_id,
  5: i64 applied_index
}

/* Seeds discovery, join requests and their answers, council forwarding:
 * opaque to the transport, defined by the membership module. */
struct MembershipMessage {
  1: i32 kind,
  2: binary payload
}

union PeerMessage {
  1: ConsensusMessage consensus,
  2: MigrationRequest migration_request,
  3: MigrationChunk migration_chunk,
  4: MigrationDone migration_done,
  5: Poll poll,
  6: PollReply poll_reply,
  7: MembershipMessage membership
}
