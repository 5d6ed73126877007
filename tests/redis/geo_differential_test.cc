// The GEO commands (GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE,
// GEORADIUS, GEORADIUSBYMEMBER and their _RO forms) against a real redis-server 7.0, byte
// for byte, in RESP2 and RESP3: errors in Redis's order, coordinates and distances to the
// last digit, result orders (ties included, which Redis's sorts leave in their own order),
// the STORE forms, and the geo set being a sorted set to every other command.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/redis/differential_script.h"

namespace ekv::redis::differential {
namespace {

std::vector<Step> InBothProtocols(const std::vector<Step>& steps) {
  std::vector<Step> script = steps;
  script.push_back(Cmd({"FLUSHALL"}));
  script.push_back(Cmd({"HELLO", "3"}));
  script.insert(script.end(), steps.begin(), steps.end());
  return script;
}

const std::vector<std::string> kSicily = {"GEOADD",  "Sicily",    "13.361389", "38.115556",
                                          "Palermo", "15.087269", "37.502669", "Catania"};

TEST_F(DifferentialTest, GeoAddPosDistHash) {
  Compare(InBothProtocols({
      Cmd(kSicily),
      Cmd(kSicily),
      Cmd({"GEOADD", "Sicily", "CH", "13.361389", "38.115557", "Palermo"}),
      Cmd({"GEOADD", "Sicily", "NX", "1", "1", "Palermo", "2", "2", "Nowhere"}),
      Cmd({"GEOADD", "Sicily", "XX", "CH", "13.361389", "38.115556", "Palermo", "3", "3", "X"}),
      Cmd({"GEOADD", "Sicily", "XX", "NX", "1", "1", "a"}),
      Cmd({"GEOADD", "Sicily", "CH", "CH", "CH"}),
      Cmd({"GEOADD", "Sicily", "GT", "1", "1", "a"}),
      Cmd({"GEOADD", "Sicily", "1", "1", "a", "2"}),
      Cmd({"GEOADD", "Sicily", "200", "100", "a"}),
      Cmd({"GEOADD", "Sicily", "1", "85.06", "a"}),
      Cmd({"GEOADD", "Sicily", "-180.0001", "0", "a"}),
      Cmd({"GEOADD", "Sicily", "1", "1", "ok", "181", "0", "bad"}),
      Cmd({"EXISTS", "ok"}),
      Cmd({"GEOADD", "Sicily", "x", "1", "a"}),
      Cmd({"GEOADD", "Sicily", "1", "nan", "a"}),
      Cmd({"GEOADD", "Sicily", "inf", "1", "a"}),
      Cmd({"GEOADD", "Sicily", "180", "85.05112878", "corner", "-180", "-85.05112878", "other"}),
      Cmd({"GEOADD", "Sicily", "0", "0", "zero", "-0.000001", "0.000001", "tiny"}),
      Cmd({"TYPE", "Sicily"}),
      Cmd({"ZRANGE", "Sicily", "0", "-1", "WITHSCORES"}),
      Cmd({"ZSCORE", "Sicily", "Palermo"}),
      Cmd({"GEOPOS", "Sicily", "Palermo", "Catania", "nope", "corner", "other", "zero", "tiny"}),
      Cmd({"GEOPOS", "nokey", "a", "b"}),
      Cmd({"GEOPOS", "Sicily"}),
      Cmd({"GEOHASH", "Sicily", "Palermo", "Catania", "nope", "corner", "other", "zero"}),
      Cmd({"GEOHASH", "nokey", "a"}),
      Cmd({"GEOHASH", "Sicily"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "Catania"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "Catania", "km"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "Catania", "MI"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "Catania", "Ft"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "Catania", "m"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "Catania", "yards"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "Catania", "km", "extra"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "Palermo"}),
      Cmd({"GEODIST", "Sicily", "Palermo", "nope"}),
      Cmd({"GEODIST", "nokey", "a", "b"}),
      Cmd({"GEODIST", "nokey", "a", "b", "parsec"}),
      Cmd({"GEODIST", "Sicily", "corner", "other", "km"}),
      Cmd({"GEODIST", "Sicily", "zero", "tiny"}),
      // Members a plain ZADD gave scores no GEOADD would: decoded all the same.
      Cmd({"ZADD", "Sicily", "0", "z0", "4503599627370495", "zmax", "1e17", "huge", "-5", "neg",
           "123.75", "frac"}),
      Cmd({"GEOPOS", "Sicily", "z0", "zmax", "huge", "neg", "frac"}),
      Cmd({"GEOHASH", "Sicily", "z0", "zmax", "huge", "neg", "frac"}),
      Cmd({"GEODIST", "Sicily", "z0", "zmax"}),
      Cmd({"SET", "str", "x"}),
      Cmd({"GEOADD", "str", "1", "1", "a"}),
      Cmd({"GEOADD", "str", "1", "100", "a"}),
      Cmd({"GEOPOS", "str", "a"}),
      Cmd({"GEOHASH", "str", "a"}),
      Cmd({"GEODIST", "str", "a", "b"}),
      Cmd({"GEODIST", "str", "a", "b", "nope"}),
      Cmd({"GEOADD", "Sicily"}),
      Cmd({"GEOADD", "Sicily", "1", "1"}),
      Cmd({"GEODIST", "Sicily", "a"}),
      Cmd({"GEOPOS"}),
      Cmd({"GEOHASH"}),
  }));
}

TEST_F(DifferentialTest, GeoSearchOptionsAndErrors) {
  const std::vector<std::string> add = {
      "GEOADD",      "nyc",         "-73.9454966",  "40.747533",
      "lic market",  "-73.9733487", "40.7648057",   "central park n/q/r",
      "-73.9903085", "40.7362513",  "union square", "-74.0131604",
      "40.7126674",  "wtc one",     "-73.7858139",  "40.6428986",
      "jfk",         "-73.9375699", "40.7498929",   "q4",
      "-73.9564142", "40.7480973",  "4545"};
  Compare(InBothProtocols({
      Cmd(add),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "3", "km", "asc"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "3", "km"}),
      Cmd({"GEOSEARCH", "nyc", "fromlonlat", "-73.9798091", "40.7598464", "bybox", "6", "6", "km",
           "asc"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "3", "km", "withdist", "asc"}),
      Cmd({"GEOSEARCH", "nyc", "fromlonlat", "-73.9798091", "40.7598464", "bybox", "6", "6", "km",
           "withdist", "asc"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT", "3"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT", "2", "ANY"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT", "2", "ANY",
           "ASC"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "ANY"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT", "x"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT", "0"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT", "-2"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT", "2", "DESC"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "WITHCOORD", "WITHHASH",
           "WITHDIST", "DESC"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "mi", "WITHCOORD"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "30000", "ft", "WITHHASH"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "50000", "km"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "0", "km", "WITHDIST"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "-1", "km"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "x", "km"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "1", "lightyears"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "91", "1", "km"}),
      Cmd({"GEORADIUS", "nyc", "y", "40", "1", "km"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "bogus"}),
      Cmd({"GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "FROMMEMBER", "jfk"}),
      Cmd({"GEORADIUSBYMEMBER", "nyc", "wtc one", "7", "km"}),
      Cmd({"GEORADIUSBYMEMBER", "nyc", "wtc one", "7", "km", "withdist", "withcoord", "count", "3",
           "desc"}),
      Cmd({"GEORADIUSBYMEMBER", "nyc", "nope", "7", "km"}),
      Cmd({"GEORADIUSBYMEMBER", "nyc", "wtc one", "x", "km"}),
      Cmd({"GEORADIUSBYMEMBER", "nokey", "nope", "x", "yards", "withdist"}),
      Cmd({"GEORADIUSBYMEMBER", "nokey", "nope", "1", "km", "bogus"}),
      Cmd({"GEORADIUSBYMEMBER", "nokey", "nope", "1", "km", "STORE", "d"}),
      Cmd({"GEORADIUS_RO", "nyc", "-73.9798091", "40.7598464", "3", "km", "asc", "withdist"}),
      Cmd({"GEORADIUS_RO", "nyc", "-73.9798091", "40.7598464", "3", "km", "store", "d"}),
      Cmd({"GEORADIUSBYMEMBER_RO", "nyc", "wtc one", "7", "km", "asc"}),
      Cmd({"GEORADIUSBYMEMBER_RO", "nyc", "wtc one", "7", "km", "storedist", "d"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "byradius", "7", "km", "asc"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "bybox", "14", "14", "km", "desc",
           "withcoord", "withdist", "withhash"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "nope", "byradius", "7", "km"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "fromlonlat", "1", "1", "byradius", "7",
           "km"}),
      Cmd({"GEOSEARCH", "nyc", "fromlonlat", "1", "1", "frommember", "wtc one", "byradius", "7",
           "km"}),
      Cmd({"GEOSEARCH", "nyc", "byradius", "7", "km", "asc", "count", "2"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "withdist", "asc"}),
      Cmd({"geosearch", "nyc", "byradius", "7", "km", "asc", "count", "2"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "byradius", "7", "km", "bybox", "1", "1",
           "km"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "bybox", "1", "1", "km", "byradius", "7",
           "km"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "bybox", "-1", "1", "km"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "bybox", "x", "1", "km"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "bybox", "1", "y", "km"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "bybox", "1", "1", "au"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "bybox", "1", "1"}),
      Cmd({"GEOSEARCH", "nyc", "fromlonlat", "200", "1", "byradius", "1", "km"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "byradius", "1", "km", "store", "d"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "byradius", "1", "km", "storedist"}),
      Cmd({"GEOSEARCH", "nyc", "frommember", "wtc one", "byradius", "7", "km", "any", "asc"}),
      Cmd({"GEOSEARCH", "nokey", "frommember", "wtc one", "byradius", "7", "km"}),
      Cmd({"GEOSEARCH", "nokey", "frommember", "x", "bybox", "1", "2", "km", "count", "1"}),
      Cmd({"GEOSEARCH", "nokey", "byradius", "7", "km"}),
      Cmd({"GEOSEARCH", "nokey", "fromlonlat", "0", "0", "byradius", "7", "km", "count", "0"}),
      Cmd({"GEOSEARCH", "nyc", "fromlonlat", "0", "0", "byradius", "7", "km"}),
      Cmd({"GEOSEARCH", "nyc", "fromlonlat", "-73.9798091", "40.7598464", "bybox", "200", "0.5",
           "km", "asc", "withdist"}),
      Cmd({"GEOSEARCH", "nyc", "fromlonlat", "-73.9798091", "40.7598464", "bybox", "0.5", "200",
           "mi", "asc", "withdist"}),
      Cmd({"SET", "str", "x"}),
      Cmd({"GEOSEARCH", "str", "frommember", "a", "byradius", "1", "km"}),
      Cmd({"GEOSEARCH", "str", "frommember", "a", "bogus"}),
      Cmd({"GEORADIUS", "str", "500", "0", "1", "km"}),
      Cmd({"GEORADIUSBYMEMBER", "str", "a", "1", "km"}),
      Cmd({"GEOSEARCHSTORE", "d", "str", "frommember", "a", "byradius", "1", "km"}),
      Cmd({"GEOSEARCH", "nyc"}),
      Cmd({"GEORADIUS", "nyc", "1", "1", "1"}),
  }));
}

TEST_F(DifferentialTest, GeoSearchStores) {
  const std::vector<std::string> add = {
      "GEOADD",    "{p}", "-122.407107", "37.794300", "a",         "-122.227336",
      "37.794300", "b",   "-122.407107", "37.794300", "twin-of-a", "-122.3",
      "37.7",      "c",   "-122.3",      "37.7",      "d"};
  Compare(InBothProtocols({
      Cmd(add),
      Cmd({"GEORADIUS", "{p}", "-122.407107", "37.794300", "30", "mi", "ASC", "WITHDIST"}),
      Cmd({"GEORADIUS", "{p}", "-122.407107", "37.794300", "30", "mi", "STORE", "{p}d"}),
      Cmd({"ZRANGE", "{p}d", "0", "-1", "WITHSCORES"}),
      Cmd({"TYPE", "{p}d"}),
      Cmd({"GEORADIUS", "{p}", "-122.407107", "37.794300", "30", "mi", "STOREDIST", "{p}d"}),
      Cmd({"ZRANGE", "{p}d", "0", "-1", "WITHSCORES"}),
      Cmd({"GEORADIUS", "{p}", "-122.407107", "37.794300", "30", "mi", "STOREDIST", "{p}d", "COUNT",
           "2", "DESC"}),
      Cmd({"ZRANGE", "{p}d", "0", "-1", "WITHSCORES"}),
      Cmd({"GEORADIUS", "{p}", "-122.407107", "37.794300", "30", "mi", "STORE", "{p}x", "STOREDIST",
           "{p}d", "COUNT", "3", "ASC"}),
      Cmd({"ZRANGE", "{p}d", "0", "-1", "WITHSCORES"}),
      Cmd({"EXISTS", "{p}x"}),
      Cmd({"GEORADIUS", "{p}", "-122.407107", "37.794300", "30", "mi", "STORE", "{p}d",
           "WITHDIST"}),
      Cmd({"GEORADIUS", "{p}", "-122.407107", "37.794300", "30", "mi", "STORE"}),
      Cmd({"GEORADIUS", "{p}", "0", "0", "1", "km", "STORE", "{p}d"}),
      Cmd({"EXISTS", "{p}d"}),
      Cmd({"GEORADIUS", "{p}", "0", "0", "1", "km", "STORE", "{p}d"}),
      Cmd({"GEORADIUS", "{p}nokey", "0", "0", "1", "km", "STORE", "{p}d"}),
      Cmd({"GEORADIUSBYMEMBER", "{p}", "c", "100", "km", "STORE", "{p}m", "COUNT", "2"}),
      Cmd({"ZRANGE", "{p}m", "0", "-1", "WITHSCORES"}),
      Cmd({"GEORADIUSBYMEMBER", "{p}", "c", "100", "km", "STOREDIST", "{p}m"}),
      Cmd({"ZRANGE", "{p}m", "0", "-1", "WITHSCORES"}),
      Cmd({"GEORADIUSBYMEMBER", "{p}", "c", "100", "km", "STORE", "{p}m", "WITHHASH"}),
      Cmd({"GEORADIUSBYMEMBER", "{p}nokey", "c", "100", "km", "STORE", "{p}m"}),
      Cmd({"EXISTS", "{p}m"}),
      Cmd({"GEOSEARCHSTORE", "{p}s", "{p}", "fromlonlat", "-122.4", "37.8", "byradius", "50", "km",
           "asc", "count", "3"}),
      Cmd({"ZRANGE", "{p}s", "0", "-1", "WITHSCORES"}),
      Cmd({"GEOSEARCHSTORE", "{p}s", "{p}", "frommember", "a", "bybox", "50", "50", "km",
           "storedist"}),
      Cmd({"ZRANGE", "{p}s", "0", "-1", "WITHSCORES"}),
      Cmd({"GEOSEARCHSTORE", "{p}s", "{p}", "frommember", "a", "bybox", "50", "50", "km",
           "withdist"}),
      Cmd({"GEOSEARCHSTORE", "{p}s", "{p}", "frommember", "a", "bybox", "50", "50", "km", "store",
           "{p}z"}),
      Cmd({"GEOSEARCHSTORE", "{p}s", "{p}", "frommember", "a", "byradius", "50", "km", "count", "1",
           "any", "storedist"}),
      Cmd({"ZRANGE", "{p}s", "0", "-1", "WITHSCORES"}),
      Cmd({"GEOSEARCHSTORE", "{p}s", "{p}", "fromlonlat", "0", "0", "byradius", "1", "km"}),
      Cmd({"EXISTS", "{p}s"}),
      Cmd({"GEOSEARCHSTORE", "{p}s", "{p}nokey", "frommember", "a", "byradius", "1", "km"}),
      Cmd({"GEOSEARCHSTORE", "{p}", "{p}", "frommember", "a", "byradius", "1", "km"}),
      Cmd({"ZRANGE", "{p}", "0", "-1", "WITHSCORES"}),
      Cmd({"SET", "{p}str", "x"}),
      Cmd({"GEOSEARCHSTORE", "{p}str", "{p}", "frommember", "a", "byradius", "1", "km"}),
      Cmd({"TYPE", "{p}str"}),
      Cmd({"GEORADIUS", "{p}", "-122.407107", "37.794300", "1", "km", "STORE", "{p}str"}),
      Cmd({"TYPE", "{p}str"}),
  }));
}

// GEOADD's event is ZADD's; a STORE destination gets georadiusstore / geosearchstore,
// or del when an empty result removed it. GEOADD wakes a client blocked on the key.
TEST_F(DifferentialTest, GeoKeyspaceEventsAndBlockedClients) {
  std::vector<Step> script = {
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEA"}),
      On(1, {"PSUBSCRIBE", "*"}),
  };
  auto notify = [&](std::vector<std::string> args, int messages) {
    script.push_back(Cmd(std::move(args)));
    script.push_back(Read(1, messages));
  };
  notify({"GEOADD", "{g}", "13.361389", "38.115556", "Palermo"}, 2);
  notify({"GEOADD", "{g}", "13.361389", "38.115556", "Palermo"}, 0);
  notify({"GEOADD", "{g}", "CH", "15.087269", "37.502669", "Palermo"}, 2);
  notify({"GEOADD", "{g}", "NX", "15.087269", "37.502669", "Palermo"}, 0);
  notify({"GEORADIUS", "{g}", "15", "37", "200", "km", "STORE", "{g}d"}, 2);
  notify({"GEORADIUS", "{g}", "15", "37", "200", "km", "STOREDIST", "{g}d"}, 2);
  notify({"GEORADIUSBYMEMBER", "{g}", "Palermo", "1", "km", "STORE", "{g}d"}, 2);
  notify({"GEORADIUS", "{g}", "0", "0", "1", "km", "STORE", "{g}d"}, 2);
  notify({"GEORADIUS", "{g}", "0", "0", "1", "km", "STORE", "{g}d"}, 0);
  notify({"GEOSEARCHSTORE", "{g}d", "{g}", "frommember", "Palermo", "byradius", "1", "km"}, 2);
  notify({"GEOSEARCHSTORE", "{g}d", "{g}nokey", "frommember", "Palermo", "byradius", "1", "km"}, 2);
  notify({"GEORADIUS", "{g}", "15", "37", "200", "km"}, 0);
  script.push_back(On(2, {"BZPOPMIN", "{g}w", "0"}, 0));
  script.push_back(AfterBlocked(1, {"GEOADD", "{g}w", "1", "2", "woke"}));
  script.push_back(Read(2));
  script.push_back(Read(1, 6));
  script.push_back(On(2, {"BZPOPMIN", "{g}w2", "0"}, 0));
  script.push_back(AfterBlocked(
      1, {"GEOSEARCHSTORE", "{g}w2", "{g}", "frommember", "Palermo", "byradius", "1", "km"}));
  script.push_back(Read(2));
  script.push_back(Read(1, 6));
  Compare(script);
}

// What COMMAND says of the GEO commands (arity, flags, movable keys, key specs, ACL
// categories), the keys COMMAND GETKEYS and the ACL key check find (GEORADIUS's STORE
// destination by its getkeys_proc), and GEOPOS's coordinates as a script sees them in both
// protocols.
TEST_F(DifferentialTest, GeoCommandInfoKeysAndScripts) {
  const std::string acl_text =
      "user default on nopass ~* &* +@all\n"
      "user app on >apw ~app:* +@all\n";
  std::vector<Step> steps = {
      Cmd({"COMMAND", "INFO", "geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro",
           "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "PATTERN", "geosearchst*"}),
      Cmd({"COMMAND", "GETKEYS", "GEORADIUS", "src", "1", "2", "3", "km", "STORE", "d"}),
      Cmd({"COMMAND", "GETKEYS", "GEORADIUS", "src", "1", "2", "3", "km", "STORE", "d", "STOREDIST",
           "e"}),
      Cmd({"COMMAND", "GETKEYS", "GEORADIUS", "src", "1", "2", "3", "km"}),
      Cmd({"COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "src", "m", "3", "km", "STOREDIST", "d"}),
      Cmd({"COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "src", "FROMMEMBER", "m", "BYRADIUS", "1",
           "km"}),
      Cmd({"COMMAND", "GETKEYS", "GEOADD", "k", "1", "2", "m"}),
      On(0, {"GEOADD", "app:g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
             "Catania"}),
      On(1, {"AUTH", "app", "apw"}),
      On(1, {"GEORADIUS", "app:g", "15", "37", "200", "km", "STORE", "other"}),
      On(1, {"GEORADIUS", "app:g", "15", "37", "200", "km", "STORE", "app:d"}),
      On(1, {"GEORADIUSBYMEMBER", "app:g", "Palermo", "200", "km", "STOREDIST", "other"}),
      On(1, {"GEOSEARCHSTORE", "other", "app:g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"}),
      On(1, {"GEOSEARCH", "app:g", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "ASC"}),
      On(0, {"EXISTS", "other", "app:d"}),
      Cmd({"EVAL", "return redis.call('geopos', KEYS[1], 'Palermo', 'nope')", "1", "app:g"}),
      Cmd({"EVAL", "redis.setresp(3); return redis.call('geopos', KEYS[1], 'Palermo')", "1",
           "app:g"}),
      Cmd({"EVAL",
           "redis.setresp(3); local p = redis.call('geopos', KEYS[1], 'Palermo'); "
           "return {type(p[1][1]), tostring(p[1][1]['double'])}",
           "1", "app:g"}),
      Cmd({"EVAL", "return redis.call('geodist', KEYS[1], 'Palermo', 'Catania', 'km')", "1",
           "app:g"}),
      Cmd({"EVAL",
           "return redis.call('geosearch', KEYS[1], 'frommember', 'Palermo', 'byradius', 300, "
           "'km', 'withcoord', 'withdist', 'withhash', 'asc')",
           "1", "app:g"}),
      Cmd({"HELLO", "3"}),
      Cmd({"EVAL", "redis.setresp(3); return redis.call('geopos', KEYS[1], 'Palermo')", "1",
           "app:g"}),
      Cmd({"EVAL", "return redis.call('geopos', KEYS[1], 'Palermo')", "1", "app:g"}),
      Cmd({"MULTI"}),
      Cmd({"GEOADD", "app:g", "1", "2", "x"}),
      Cmd({"GEOPOS", "app:g", "x"}),
      Cmd({"GEORADIUS", "app:g", "1", "2", "1", "km", "STORE", "app:e"}),
      Cmd({"EXEC"}),
  };
  Compare(steps, "", {}, acl_text);
}

// A deterministic scatter of points (some sharing coordinates, so distances tie) and a few
// hundred searches over it: every radius and box size from meters to continents, each
// unit, each option, in both protocols.
class Scatter {
 public:
  explicit Scatter(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return state_ >> 33;
  }
  // Uniform in [low, high] at 1e-6 resolution, as text.
  std::string Coordinate(double low, double high) {
    const double unit = static_cast<double>(Next() % 1000001) / 1000000.0;
    return absl::StrFormat("%.6f", low + (high - low) * unit);
  }

 private:
  uint64_t state_;
};

TEST_F(DifferentialTest, GeoGeneratedSearches) {
  Scatter rng(20261208);
  std::vector<Step> steps;
  // Around Paris, densely; a few everywhere; clusters of identical points.
  std::vector<std::pair<std::string, std::string>> points;
  for (int i = 0; i < 240; ++i) {
    points.push_back({rng.Coordinate(1.8, 2.9), rng.Coordinate(48.5, 49.2)});
  }
  for (int i = 0; i < 40; ++i) {
    points.push_back({rng.Coordinate(-180, 180), rng.Coordinate(-85, 85)});
  }
  for (int i = 0; i < 20; ++i) points.push_back({"2.350000", "48.850000"});
  for (int i = 0; i < 10; ++i) points.push_back({"2.400000", "48.900000"});
  for (size_t i = 0; i < points.size(); i += 50) {
    std::vector<std::string> add = {"GEOADD", "pts"};
    for (size_t j = i; j < points.size() && j < i + 50; ++j) {
      add.push_back(points[j].first);
      add.push_back(points[j].second);
      add.push_back(absl::StrCat("p", j));
    }
    steps.push_back(Cmd(add));
  }
  steps.push_back(Cmd({"ZCARD", "pts"}));
  const std::vector<std::string> units = {"m", "km", "mi", "ft"};
  const std::vector<std::string> radii_km = {"0.05", "0.5", "2",   "5",   "11",
                                             "25",   "60",  "200", "900", "5000"};
  for (int i = 0; i < 120; ++i) {
    const std::string unit = units[rng.Next() % units.size()];
    double km = 0;
    absl::SimpleAtod(radii_km[rng.Next() % radii_km.size()], &km);
    const double per_unit = unit == "m"    ? 0.001
                            : unit == "km" ? 1
                            : unit == "mi" ? 1.60934
                                           : 0.0003048;
    const std::string size = absl::StrFormat("%.3f", km / per_unit);
    const std::string other =
        absl::StrFormat("%.3f", km / per_unit * (0.3 + (rng.Next() % 20) / 10.0));
    std::vector<std::string> cmd;
    const int form = static_cast<int>(rng.Next() % 4);
    const bool from_member = rng.Next() % 3 == 0;
    const std::string member = absl::StrCat("p", rng.Next() % points.size());
    const std::string lon =
        rng.Next() % 4 == 0 ? rng.Coordinate(-179, 179) : rng.Coordinate(2, 2.7);
    const std::string lat =
        rng.Next() % 4 == 0 ? rng.Coordinate(-84, 84) : rng.Coordinate(48.6, 49.1);
    if (form == 0) {
      cmd = from_member ? std::vector<std::string>{"GEORADIUSBYMEMBER", "pts", member, size, unit}
                        : std::vector<std::string>{"GEORADIUS", "pts", lon, lat, size, unit};
    } else {
      cmd = {"GEOSEARCH", "pts"};
      if (from_member) {
        cmd.insert(cmd.end(), {"FROMMEMBER", member});
      } else {
        cmd.insert(cmd.end(), {"FROMLONLAT", lon, lat});
      }
      if (form == 1) {
        cmd.insert(cmd.end(), {"BYRADIUS", size, unit});
      } else {
        cmd.insert(cmd.end(), {"BYBOX", size, other, unit});
      }
    }
    const uint64_t options = rng.Next();
    if (options & 1) cmd.push_back("WITHDIST");
    if (options & 2) cmd.push_back("WITHCOORD");
    if (options & 4) cmd.push_back("WITHHASH");
    switch ((options >> 3) % 3) {
      case 0:
        break;
      case 1:
        cmd.push_back("ASC");
        break;
      case 2:
        cmd.push_back("DESC");
        break;
    }
    if ((options >> 5) % 2 == 1) {
      cmd.insert(cmd.end(), {"COUNT", absl::StrCat(1 + (options >> 6) % 60)});
      if ((options >> 12) % 3 == 0) cmd.push_back("ANY");
    }
    steps.push_back(Cmd(cmd));
  }
  Compare(InBothProtocols(steps));
}

}  // namespace
}  // namespace ekv::redis::differential
