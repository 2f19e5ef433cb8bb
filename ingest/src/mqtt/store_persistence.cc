#include "mqtt/store_persistence.h"

#include <mqtt/exception.h>

namespace vigil::ingest {

StorePersistence::StorePersistence(cep::StateStore* store, std::string stream, bool sync)
    : store_(store), stream_(std::move(stream)), sync_(sync) {}

std::string StorePersistence::Prefix(const std::string& stream, const std::string& client_id) {
  return stream + "#paho/" + client_id + "/";
}

void StorePersistence::open(const mqtt::string& client_id, const mqtt::string&) {
  prefix_ = Prefix(stream_, client_id);
}

void StorePersistence::Fail(const std::string& what, const std::string& why) const {
  throw mqtt::persistence_exception("streams." + stream_ + ": MQTT client state: " + what + ": " +
                                    why);
}

void StorePersistence::clear() {
  cep::StateBatch batch;
  std::string end = prefix_;
  end.back() = static_cast<char>('/' + 1);
  batch.DeleteRange(cep::StateFamily::kIngestLog, prefix_, end);
  Status st = store_->Write(batch, sync_);
  if (!st.ok()) Fail("clear", st.message());
}

bool StorePersistence::contains_key(const mqtt::string& key) {
  std::string value;
  auto found = store_->Get(cep::StateFamily::kIngestLog, Key(key), &value);
  if (!found.ok()) Fail("read " + key, found.status().message());
  return *found;
}

mqtt::string_collection StorePersistence::keys() const {
  mqtt::string_collection out;
  std::string end = prefix_;
  end.back() = static_cast<char>('/' + 1);
  Status st = store_->Scan(cep::StateFamily::kIngestLog, prefix_, end,
                           [&](std::string_view k, std::string_view) {
                             out.push_back(std::string(k.substr(prefix_.size())));
                             return true;
                           });
  if (!st.ok()) Fail("list", st.message());
  return out;
}

void StorePersistence::put(const mqtt::string& key, const std::vector<mqtt::string_view>& bufs) {
  std::string value;
  for (const mqtt::string_view& b : bufs)
    value.append(b.data(), b.size());
  cep::StateBatch batch;
  batch.Put(cep::StateFamily::kIngestLog, Key(key), value);
  Status st = store_->Write(batch, sync_);
  if (!st.ok()) Fail("write " + key, st.message());
}

mqtt::string StorePersistence::get(const mqtt::string& key) const {
  std::string value;
  auto found = store_->Get(cep::StateFamily::kIngestLog, Key(key), &value);
  if (!found.ok()) Fail("read " + key, found.status().message());
  if (!*found) throw mqtt::persistence_exception(MQTTCLIENT_PERSISTENCE_ERROR);
  return value;
}

void StorePersistence::remove(const mqtt::string& key) {
  cep::StateBatch batch;
  batch.Delete(cep::StateFamily::kIngestLog, Key(key));
  // A removal need not be fsync'd: if it is lost, Paho finds the entry again on restart,
  // and the message it holds is already in the ingest log (a duplicate at worst).
  Status st = store_->Write(batch, false);
  if (!st.ok()) Fail("remove " + key, st.message());
}

}  // namespace vigil::ingest
