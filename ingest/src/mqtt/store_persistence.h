// Paho's client persistence kept in Vigil's state store (StateFamily::kIngestLog, keys
// "<stream>#paho/<client id>/<Paho key>"), written per state.durability.
//
// Why: with MQTT 3.1.1 a QoS 2 message is acknowledged (PUBREC) when it arrives, but handed
// to the application only when PUBREL comes. In between, Paho holds it; with a persistence
// it writes the message ("r-<id>") before sending PUBREC. Backing that persistence with the
// state store (fsync'd with durability sync) means no acknowledged message lives only in
// memory. The same holds for messages Paho queues (and acknowledges) while it cannot hand
// them over ("q-" keys), which it restores on the next start.
#pragma once

#include <mqtt/iclient_persistence.h>

#include <string>

#include "vigil/cep/state_store.h"

namespace vigil::ingest {

// Thread safety: Paho calls it from its own threads; the store is thread-safe.
class StorePersistence final : public mqtt::iclient_persistence {
 public:
  StorePersistence(cep::StateStore* store, std::string stream, bool sync);

  void open(const mqtt::string& client_id, const mqtt::string& server_uri) override;
  void close() override {}
  void clear() override;
  bool contains_key(const mqtt::string& key) override;
  mqtt::string_collection keys() const override;
  void put(const mqtt::string& key, const std::vector<mqtt::string_view>& bufs) override;
  mqtt::string get(const mqtt::string& key) const override;
  void remove(const mqtt::string& key) override;

  static std::string Prefix(const std::string& stream, const std::string& client_id);

 private:
  std::string Key(const mqtt::string& key) const { return prefix_ + key; }
  [[noreturn]] void Fail(const std::string& what, const std::string& why) const;

  cep::StateStore* const store_;
  const std::string stream_;
  const bool sync_;
  std::string prefix_;
};

}  // namespace vigil::ingest
