/*
 * shardbearer/abi/transport.h — the transport plugin kind (SB_KIND_TRANSPORT).
 *
 * A transport moves opaque messages (byte strings) between radiants. The host
 * names peers by node id and gives the transport each peer's address; the
 * transport owns connections, framing, batching, reconnects, TLS and limits.
 * Messages between one pair of nodes travel one connection per direction.
 *
 * Delivery semantics (what the host may rely on, and no more):
 *  - at most once: a message is delivered zero or one time (a transport for
 *    tests may duplicate on purpose; consensus tolerates it);
 *  - no corruption: a delivered message is byte-for-byte what was sent;
 *  - FIFO per (sender, receiver) while one connection lasts; a reconnect may
 *    lose the messages that were in flight;
 *  - a peer is authenticated by the handshake (cluster id, node id, protocol
 *    version; certificate when mutual TLS is on): a delivered message really
 *    comes from `from_node`.
 *
 * Threading contract. The consensus driver never blocks on the transport:
 *  - `send` never blocks on the network. It copies the message into the
 *    peer's bounded queue and returns. When that queue is full it returns
 *    SB_BUSY and drops nothing already queued (overflow policy: refuse the
 *    newest). The caller may drop the message (consensus resends) or retry.
 *  - `deliver` is called on a transport-owned thread, possibly several
 *    threads at once (one per inbound connection), never on the thread that
 *    called `send`, and never after `shutdown` returned. It must return
 *    quickly (hand the bytes to a queue); it may call `send`, `stats` and
 *    the peer functions, but never `shutdown` or `destroy`.
 *  - every function of an instance except `destroy` is thread-safe.
 *
 * Lifecycle: create -> listen (optional for a node that only dials) ->
 * add_peer / send ... -> shutdown -> destroy.
 */
#ifndef SHARDBEARER_ABI_TRANSPORT_H_
#define SHARDBEARER_ABI_TRANSPORT_H_

#include "shardbearer/abi/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sb_transport sb_transport; /* opaque, owned by plugin */

/* Receives one message. `data` (borrowed, `len` bytes) is valid during the
 * call only. `ctx` is the deliver_ctx given at create. */
typedef void (*sb_transport_deliver_fn)(void* ctx, uint64_t from_node,
                                        const uint8_t* data, size_t len);

typedef struct sb_transport_create_args {
  uint32_t struct_size;
  /* Borrowed; table and host_ctx stay valid until destroy. */
  const sb_host_services* host;
  /* Borrowed; the plugin copies what it keeps. Its `[transport]` section. */
  const sb_config* config;
  /* This radiant's node id (non-zero). */
  uint64_t local_node_id;
  /* Borrowed, NUL-terminated; the cluster this node belongs to. Peers with
   * another cluster id are refused. Empty: not yet known (only peers that
   * also send an empty id are accepted). */
  const char* cluster_id;
  /* Borrowed, NUL-terminated "host:port" to listen on; port 0 picks a free
   * port (see local_address). NULL or empty: dial only. */
  const char* listen_address;
  /* Called for every received message; see the threading contract. */
  sb_transport_deliver_fn deliver;
  void* deliver_ctx; /* owned by host; passed back unchanged */
} sb_transport_create_args;

/* Counters since create. Filled by `stats`; the caller sets struct_size and
 * the plugin fills the members that fit. */
typedef struct sb_transport_stats {
  uint32_t struct_size;
  uint64_t messages_sent;     /* written to a socket */
  uint64_t bytes_sent;        /* message payload bytes written */
  uint64_t messages_received; /* delivered to the host */
  uint64_t bytes_received;
  uint64_t send_busy;        /* `send` calls refused with SB_BUSY */
  uint64_t messages_dropped; /* queued, then lost (connection failure,
                                remove_peer, shutdown) */
  uint64_t envelopes_sent;   /* frames carrying messages (batching ratio =
                                messages_sent / envelopes_sent) */
  uint64_t connects;         /* outbound connections established */
  uint64_t connect_failures; /* failed dials or refused handshakes */
  uint64_t inbound_accepted; /* inbound connections that passed handshake */
  uint64_t inbound_refused;  /* inbound connections refused or closed for
                                bad input (handshake, frame, timeout, cap) */
  uint64_t inbound_open;     /* inbound connections open now */
  uint64_t outbound_open;    /* outbound connections open now */
} sb_transport_stats;

typedef struct sb_transport_vtable {
  uint32_t struct_size;

  /* Validate a `[transport]` section without creating anything (rejects
   * unknown keys and bad values, naming the key). cfg borrowed. */
  sb_code (*check_config)(const sb_config* cfg, sb_status* st);

  /* Create an instance (no socket yet). On SB_OK *out is owned by the host
   * and released with destroy. args borrowed. */
  sb_code (*create)(const sb_transport_create_args* args, sb_transport** out,
                    sb_status* st);

  /* Bind listen_address and start accepting peers. SB_IO_ERROR naming the
   * address when it cannot bind. Calling it twice is SB_ALREADY_EXISTS. */
  sb_code (*listen)(sb_transport* t, sb_status* st);

  /* The bound listen address ("host:port", with the real port when 0 was
   * asked) passed (borrowed) to sink once; SB_UNAVAILABLE before listen. */
  sb_code (*local_address)(sb_transport* t, sb_bytes_sink sink, void* ctx,
                           sb_status* st);

  /* Register peer `node_id` at `address` ("host:port", borrowed, copied).
   * Only registered peers may connect to us or be sent to.
   * SB_ALREADY_EXISTS if known; SB_INVALID_ARGUMENT for a bad address or
   * node id 0 or our own id. */
  sb_code (*add_peer)(sb_transport* t, uint64_t node_id, const char* address,
                      sb_status* st);

  /* Change a known peer's address; the current connection is closed and the
   * next send dials the new address. SB_NOT_FOUND if unknown. */
  sb_code (*update_peer)(sb_transport* t, uint64_t node_id, const char* address,
                         sb_status* st);

  /* Forget a peer: close its connections, drop its queue (counted in
   * messages_dropped), refuse it from now on. SB_NOT_FOUND if unknown. */
  sb_code (*remove_peer)(sb_transport* t, uint64_t node_id, sb_status* st);

  /* Queue `msg` (borrowed, copied) for `to_node`. Never blocks on I/O.
   * SB_OK: queued. SB_BUSY: the peer's queue is full, nothing queued.
   * SB_NOT_FOUND: unknown peer. SB_TOO_LARGE: the message cannot fit in one
   * frame. SB_UNAVAILABLE: shut down. */
  sb_code (*send)(sb_transport* t, uint64_t to_node, sb_bytes msg,
                  sb_status* st);

  /* Fill *out (caller sets out->struct_size). Never fails. */
  void (*stats)(sb_transport* t, sb_transport_stats* out);

  /* Stop accepting, close every connection, join every thread. Queued
   * messages are dropped. After return no `deliver` call is running or
   * will start. Idempotent. */
  void (*shutdown)(sb_transport* t);

  /* Release the instance (shuts down first if needed). NULL is a no-op. */
  void (*destroy)(sb_transport* t);
} sb_transport_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SHARDBEARER_ABI_TRANSPORT_H_ */
