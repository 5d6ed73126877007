// Mutual TLS between nodes (--tls_cert_file, --tls_key_file and --tls_ca_file together):
// the Raft port (Raft batches, snapshots, forwarded requests, pub/sub fan-out) accepts only
// peers that present a certificate the cluster CA signed, and every node-to-node channel
// presents this node's certificate and verifies the peer's against the same CA. A process
// without such a certificate can neither send Raft traffic nor join (AddNode asks for a
// verified client certificate too, adapters/grpc/cluster_service.h).
//
// Peers are dialled by the raft addresses the member directory records, so each node's
// certificate must name its advertised raft host (subjectAltName IP or DNS).
#pragma once

#include <memory>
#include <string>

#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace ekv::runtime {

struct PeerTls {
  std::string cert_pem;  // this node's certificate (chain)
  std::string key_pem;   // its private key
  std::string ca_pem;    // the cluster CA; empty: node-to-node traffic is plaintext
  bool enabled() const { return !ca_pem.empty(); }
};

// What node-to-node channels dial with: insecure when `tls` is off.
std::shared_ptr<grpc::ChannelCredentials> PeerChannelCredentials(const PeerTls& tls);
// The Raft port's credentials: a verified client certificate is required when `tls` is on.
std::shared_ptr<grpc::ServerCredentials> PeerServerCredentials(const PeerTls& tls);

}  // namespace ekv::runtime
