// ekv-server's address rules: what a node listens on versus what it advertises.
#include "runtime/server/server_config.h"

#include "gtest/gtest.h"

namespace ekv::runtime {
namespace {

ServerConfig Node4(std::string grpc, std::string raft) {
  ServerConfig config;
  config.node_id = 4;
  config.grpc_address = std::move(grpc);
  config.raft_address = std::move(raft);
  config.data_dir = "/tmp/ekv-n4";
  config.initial_ranges = {{"", "", 1}};
  return config;
}

TEST(ServerConfigTest, AJoiningNodeAdvertisesItsRaftAddressWithoutPeers) {
  ServerConfig config = Node4("127.0.0.1:50054", "127.0.0.1:50064");
  config.join = "127.0.0.1:50051";
  AddSelfToPeersForJoin(&config);
  ASSERT_TRUE(ValidateServerConfig(config).ok()) << ValidateServerConfig(config);
  EXPECT_EQ(AdvertisedRaftAddress(config), "127.0.0.1:50064");
  EXPECT_EQ(RaftListenAddress(config), "127.0.0.1:50064");
  EXPECT_EQ(AdvertisedGrpcAddress(config), "127.0.0.1:50054");

  // Listening on every interface says nothing about where peers dial it.
  ServerConfig wildcard = Node4("127.0.0.1:50054", "0.0.0.0:50064");
  wildcard.join = "127.0.0.1:50051";
  AddSelfToPeersForJoin(&wildcard);
  EXPECT_FALSE(ValidateServerConfig(wildcard).ok());
  // Joining through itself is a mistake, not a cluster.
  ServerConfig itself = Node4("127.0.0.1:50054", "127.0.0.1:50064");
  itself.join = "127.0.0.1:50054";
  AddSelfToPeersForJoin(&itself);
  EXPECT_FALSE(ValidateServerConfig(itself).ok());
}

TEST(ServerConfigTest, FrontDoorsOnEveryInterfaceAdvertiseTheGrpcHost) {
  ServerConfig config = Node4("0.0.0.0:50054", "10.1.2.3:50064");
  config.peers[4] = "10.1.2.3:50064";
  EXPECT_FALSE(ValidateServerConfig(config).ok()) << "a wildcard gRPC address needs advertising";
  config.advertise_grpc_address = "10.1.2.3:50054";
  ASSERT_TRUE(ValidateServerConfig(config).ok()) << ValidateServerConfig(config);
  EXPECT_EQ(AdvertisedFrontDoorAddress(config, "0.0.0.0:63794"), "10.1.2.3:63794");
  EXPECT_EQ(AdvertisedFrontDoorAddress(config, "[::]:9094"), "10.1.2.3:9094");
  EXPECT_EQ(AdvertisedFrontDoorAddress(config, "127.0.0.1:63794"), "127.0.0.1:63794");
  EXPECT_EQ(AdvertisedFrontDoorAddress(config, ""), "");
}

}  // namespace
}  // namespace ekv::runtime
