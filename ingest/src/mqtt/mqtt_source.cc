// The mqtt source (Paho MQTT C++ over the Paho C async client): MQTT 3.1.1 and 5, QoS 0/1/2,
// persistent sessions, wildcards and shared subscriptions, TLS, automatic reconnection.
//
// When Paho acknowledges (measured against mosquitto with Paho C 1.3.11, and read in
// MQTTProtocolClient.c): Paho hands a message over by calling the message callback on its
// receive thread, and
//   - QoS 1 (3.1.1 and 5): sends PUBACK after the callback returns;
//   - QoS 2, MQTT 5: sends PUBREC after the callback returns;
//   - QoS 2, MQTT 3.1.1: sends PUBREC when the PUBLISH arrives, having first written it to
//     the client persistence ("r-" key); the callback runs when PUBREL arrives, and PUBCOMP
//     follows its return;
//   - a message that arrives while Paho cannot hand it over at once is queued, written to
//     the persistence ("q-" key), acknowledged, and delivered later.
// So the callback writes the message to the stream's ingest log (per state.durability:
// fsync'd with `sync`) before it returns, and Paho's persistence is the state store too
// (StorePersistence), written the same way: nothing acknowledged lives only in memory.
// Paho calls the callback for one message at a time, on one thread for every client of the
// process, and acknowledges each as it returns; so with `sync` each QoS 1/2 message costs an
// fsync of its own (there is no batch to commit together).
//
// QoS 0 messages are acknowledged to nobody, so the callback only adds them to a batch;
// the source's flusher thread logs (without fsync) and queues the batch kLinger after its
// first message, or the callback does when the batch is full. One ingest-log write and one
// wake-up of the engine thread per batch instead of per message: handing over each message
// on its own (a futex wake of the engine thread per message) took half of the callback's
// time at 50k messages/s. A QoS 1/2 message flushes the batch with itself before the
// callback returns, so the log keeps arrival order.
//
// Back-pressure: the callback waits while the queue is full (directly, or behind the
// flusher while the batch is full); Paho then reads nothing more from the socket and the
// broker holds the messages (up to its own limits).
#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "mqtt/mqtt_settings.h"
#include "mqtt/store_persistence.h"
#include "sources/logged_source.h"
#include "sources/source_types.h"

namespace vigil::ingest {

namespace {

std::string PahoUrl(const std::string& url) {
  if (url.rfind("mqtts://", 0) == 0) return "ssl://" + url.substr(8);
  if (url.rfind("mqtt://", 0) == 0) return "tcp://" + url.substr(7);
  return url;
}

// How long the first QoS 0 message of a batch waits for others, and a batch's bounds.
constexpr auto kLinger = std::chrono::milliseconds(1);
constexpr size_t kMaxBatch = 1024;
constexpr size_t kMaxBatchBytes = 1u << 20;

int Seconds(cep::Duration d) {
  return static_cast<int>(std::max<cep::Duration>(1, d / cep::kSecond));
}

class MqttSource final : public LoggedSource {
 public:
  MqttSource(const MqttSettings& s, const SourceContext& ctx) : LoggedSource("mqtt", ctx), s_(s) {
    client_id_ = s.client_id.empty() ? ctx.node_id + "-" + ctx.stream : s.client_id;
  }
  ~MqttSource() override { Stop(); }

  std::vector<std::string> MetadataFields() const override { return {"mqtt.topic"}; }

  Status Start(RecordQueue* queue, uint32_t index) override {
    Status st = OpenAndReplay(queue, index, stop_);
    if (!st.ok()) return st;
    // Paho C formats every protocol event into an in-memory trace ring by default
    // (TRACE_MINIMUM): a third of its receive thread's time at high message rates. Vigil
    // reports errors itself.
    static std::once_flag quiet;
    std::call_once(quiet, [] { MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR); });
    try {
      if (ctx_.durability != Durability::kNone) {
        persistence_ = std::make_unique<StorePersistence>(ctx_.store, stream(),
                                                          ctx_.durability == Durability::kSync);
      }
      mqtt::create_options create(s_.version == "5" ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
      client_ = std::make_unique<mqtt::async_client>(PahoUrl(s_.url), client_id_, create,
                                                     persistence_.get());
    } catch (const std::exception& e) {
      return Status::InvalidArgument("streams." + stream() +
                                     " (mqtt): cannot create the client for " + s_.url + ": " +
                                     e.what());
    }
    client_->set_message_callback([this](mqtt::const_message_ptr m) noexcept { OnMessage(*m); });
    client_->set_connected_handler([this](const std::string&) noexcept {
      {
        std::lock_guard<std::mutex> lock(mu_);
        connected_ = true;
        need_subscribe_ = true;
        cv_.notify_all();
      }
      // Running from here: with a persistent session the broker delivers at once, before
      // the (re)subscription is acknowledged.
      SetState(SourceState::kRunning, "connected to " + s_.url + ", subscribing");
    });
    client_->set_connection_lost_handler([this](const std::string& cause) noexcept {
      {
        std::lock_guard<std::mutex> lock(mu_);
        connected_ = false;
        subscribed_ = false;
      }
      SetState(SourceState::kReconnecting, "connection to " + s_.url + " lost" +
                                               (cause.empty() ? "" : " (" + cause + ")") +
                                               "; reconnecting with backoff");
    });
    SetState(SourceState::kStarting, "connecting to " + s_.url);
    flusher_ = std::thread([this] { FlushLoop(); });
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  void Stop() override {
    if (stop_.exchange(true)) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
    {
      std::lock_guard<std::mutex> lock(batch_mu_);
      batch_cv_.notify_all();
    }
    if (queue_) queue_->WakeProducers();
    if (thread_.joinable()) thread_.join();
    if (flusher_.joinable()) flusher_.join();
    if (client_) {
      try {
        if (client_->is_connected()) client_->disconnect(0)->wait_for(std::chrono::seconds(5));
      } catch (const std::exception&) {
        // Already gone: nothing to say goodbye to.
      }
      client_.reset();
    }
    // No callback runs any more: what is left of the batch goes to the log (not the queue:
    // the source is stopping), to be queued at the next start.
    Flush();
    persistence_.reset();
    SetState(SourceState::kStopped, "");
  }

  SourceStatus status() const override {
    SourceStatus st;
    FillStatus(&st);
    std::lock_guard<std::mutex> lock(mu_);
    st.state = state_;
    st.message = message_;
    st.reconnects = reconnects_;
    st.wakeups = wakeups_;
    return st;
  }

  std::string DescribePosition(const Record& r) const override {
    std::string s = "ingest log #" + std::to_string(r.position);
    if (!r.metadata.empty()) s += " (topic " + r.metadata[0] + ")";
    return s;
  }

 private:
  void SetState(SourceState st, std::string msg) {
    bool changed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (st == SourceState::kRunning && ever_running_ && state_ != SourceState::kRunning)
        ++reconnects_;
      if (st == SourceState::kRunning) ever_running_ = true;
      changed = st != state_ || msg != message_;
      state_ = st;
      message_ = msg;
    }
    if (!changed || st == SourceState::kStopped) return;
    Log(st == SourceState::kError          ? LogLevel::kError
        : st == SourceState::kReconnecting ? LogLevel::kWarning
                                           : LogLevel::kInfo,
        std::string(SourceStateName(st)) + ": " + msg);
  }

  // Paho's receive thread. Returning acknowledges a QoS 1/2 message (see the file
  // comment), so it is logged first, with the QoS 0 messages batched before it.
  void OnMessage(const mqtt::message& m) {
    const bool acknowledged = m.get_qos() > 0;
    bool flush = acknowledged, wake = false;
    {
      std::lock_guard<std::mutex> lock(batch_mu_);
      Record& r = batch_.emplace_back();
      r.data = m.get_payload();
      r.metadata.push_back(m.get_topic());
      batch_bytes_ += r.data.size();
      batch_sync_ |= acknowledged;
      if (batch_.size() >= kMaxBatch || batch_bytes_ >= kMaxBatchBytes) flush = true;
      wake = !flush && batch_.size() == 1 && flusher_waiting_;
    }
    if (flush) {
      Flush();
    } else if (wake) {
      batch_cv_.notify_one();
    }
  }

  // Logs and queues the batch. Callers are serialised, so batches enter the log in the
  // order their messages arrived.
  void Flush() {
    std::lock_guard<std::mutex> flushing(flush_mu_);
    std::vector<Record> records;
    bool sync = false;
    {
      std::lock_guard<std::mutex> lock(batch_mu_);
      records.swap(batch_);
      sync = batch_sync_;
      batch_sync_ = false;
      batch_bytes_ = 0;
      batch_.reserve(std::max<size_t>(64, records.size()));
    }
    if (records.empty()) return;
    Status st = LogAndQueue(&records, stop_, sync);
    if (!st.ok()) {
      // The store refuses writes: nothing can be made durable, so nothing should be
      // acknowledged. Paho has no way to refuse one message; dropping the connection makes
      // the broker keep it (persistent session) and deliver it again.
      SetState(SourceState::kError, st.message());
      std::lock_guard<std::mutex> lock(mu_);
      drop_connection_ = true;
      cv_.notify_all();
    }
  }

  // Flushes each batch of QoS 0 messages kLinger after its first message arrived; sleeps
  // while there is none.
  void FlushLoop() {
    std::unique_lock<std::mutex> lock(batch_mu_);
    while (!stop_) {
      if (batch_.empty()) {
        flusher_waiting_ = true;
        batch_cv_.wait(lock, [&] { return stop_ || !batch_.empty(); });
        flusher_waiting_ = false;
        continue;
      }
      batch_cv_.wait_for(lock, kLinger, [&] { return stop_.load(); });
      if (stop_) break;
      lock.unlock();
      Flush();
      lock.lock();
    }
  }

  // A CONNACK refusal for credentials: 3.1.1 codes 4 and 5, MQTT 5 reason codes 0x86 and
  // 0x87; Paho passes either as the return code (or, for MQTT 5, the reason code).
  static const char* Refusal(const mqtt::exception& e) {
    for (int code : {e.get_return_code(), e.get_reason_code()}) {
      switch (code) {
        case 4:
        case mqtt::BAD_USER_NAME_OR_PASSWORD:
          return "bad user name or password";
        case 5:
        case mqtt::NOT_AUTHORIZED:
          return "not authorized";
        default:
          break;
      }
    }
    return nullptr;
  }

  // What the broker or Paho said, as one line.
  static std::string Why(const mqtt::exception& e) {
    if (const char* refusal = Refusal(e)) return refusal;
    std::string why = e.get_error_str();
    if (why.empty()) why = e.what();
    if (e.get_reason_code() > 0) why += " (" + e.get_reason_code_str() + ")";
    return why;
  }

  mqtt::connect_options Options() {
    mqtt::connect_options o;
    o.set_mqtt_version(s_.version == "5" ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
    if (s_.version == "5") {
      o.set_clean_start(s_.clean_start);
      mqtt::properties props;
      props.add({mqtt::property::SESSION_EXPIRY_INTERVAL,
                 static_cast<int>(s_.session_expiry / cep::kSecond)});
      o.set_properties(props);
    } else {
      o.set_clean_session(s_.clean_start);
    }
    o.set_keep_alive_interval(Seconds(s_.keepalive));
    o.set_connect_timeout(Seconds(s_.connect_timeout));
    o.set_automatic_reconnect(Seconds(s_.reconnect_min), Seconds(s_.reconnect_max));
    if (!s_.username.empty()) o.set_user_name(s_.username);
    if (!s_.password.empty()) o.set_password(s_.password);
    std::string url = PahoUrl(s_.url);
    if (s_.tls_given || url.rfind("ssl://", 0) == 0) {
      mqtt::ssl_options ssl;
      if (!s_.tls.ca_file.empty()) ssl.set_trust_store(s_.tls.ca_file);
      if (!s_.tls.cert_file.empty()) ssl.set_key_store(s_.tls.cert_file);
      if (!s_.tls.key_file.empty()) ssl.set_private_key(s_.tls.key_file);
      if (!s_.tls.key_password.empty()) ssl.set_private_key_password(s_.tls.key_password);
      ssl.set_enable_server_cert_auth(s_.tls.verify);
      ssl.set_verify(s_.tls.verify);
      ssl.set_error_handler([this](const std::string& msg) {
        std::lock_guard<std::mutex> lock(mu_);
        tls_error_ = msg;
      });
      o.set_ssl(ssl);
    }
    return o;
  }

  // Connects (the first time: after that Paho reconnects by itself), subscribes after every
  // (re)connection, and retries a failed first connection with doubling waits.
  void Run() {
    cep::Duration backoff = s_.reconnect_min;
    bool ever_connected = false;
    mqtt::connect_options options = Options();
    while (!stop_) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++wakeups_;
      }
      if (!ever_connected) {
        std::string failure;
        bool refused = false;
        try {
          client_->connect(options)->wait();
          ever_connected = true;
          backoff = s_.reconnect_min;
        } catch (const mqtt::exception& e) {
          failure = Why(e);
          refused = Refusal(e) != nullptr;
        }
        if (!ever_connected) {
          std::string tls;
          {
            std::lock_guard<std::mutex> lock(mu_);
            tls.swap(tls_error_);
          }
          if (refused) {
            SetState(SourceState::kError, "the broker at " + s_.url +
                                              " refused the connection: " + failure +
                                              "; retrying in " + cep::FormatDuration(backoff));
          } else if (!tls.empty()) {
            SetState(SourceState::kError, "TLS with " + s_.url + " failed: " + tls +
                                              "; retrying in " + cep::FormatDuration(backoff));
          } else {
            SetState(SourceState::kReconnecting, "cannot connect to " + s_.url + ": " + failure +
                                                     "; retrying in " +
                                                     cep::FormatDuration(backoff));
          }
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait_for(lock, std::chrono::nanoseconds(backoff), [&] { return stop_.load(); });
          backoff = std::min(backoff * 2, s_.reconnect_max);
          continue;
        }
      }
      bool subscribe = false, drop = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || need_subscribe_ || drop_connection_; });
        subscribe = need_subscribe_ && connected_;
        need_subscribe_ = false;
        drop = drop_connection_;
        drop_connection_ = false;
      }
      if (stop_) break;
      if (drop) {
        try {
          client_->disconnect(0)->wait_for(std::chrono::seconds(5));
        } catch (const std::exception&) {
        }
        ever_connected = false;  // connect again from here, with backoff
        continue;
      }
      if (subscribe) Subscribe();
    }
  }

  void Subscribe() {
    auto filters = mqtt::string_collection::create(s_.topics);
    mqtt::async_client::qos_collection qos(s_.topics.size(), s_.qos);
    // MQTT 5: after a reconnection, retained messages are only sent for new subscriptions.
    std::vector<mqtt::subscribe_options> opts(
        s_.topics.size(),
        mqtt::subscribe_options(false, false, mqtt::subscribe_options::SEND_RETAINED_ON_NEW));
    try {
      mqtt::token_ptr tok = s_.version == "5" ? client_->subscribe(filters, qos, opts)
                                              : client_->subscribe(filters, qos);
      tok->wait();
      std::vector<mqtt::ReasonCode> codes = tok->get_subscribe_response().get_reason_codes();
      std::string refused;
      for (size_t i = 0; i < codes.size() && i < s_.topics.size(); ++i) {
        if (codes[i] >= 0x80) refused += (refused.empty() ? "" : ", ") + s_.topics[i];
      }
      if (!refused.empty()) {
        SetState(SourceState::kError,
                 "the broker at " + s_.url + " refused the subscription to " + refused);
        return;
      }
    } catch (const mqtt::exception& e) {
      SetState(SourceState::kReconnecting, "cannot subscribe at " + s_.url + ": " + Why(e));
      return;
    }
    std::string topics;
    for (const std::string& t : s_.topics)
      topics += (topics.empty() ? "" : ", ") + t;
    SetState(SourceState::kRunning, "subscribed to " + topics + " at " + s_.url + " (QoS " +
                                        std::to_string(s_.qos) + ", MQTT " + s_.version +
                                        ", client " + client_id_ + ")");
  }

  const MqttSettings s_;
  std::string client_id_;
  std::unique_ptr<StorePersistence> persistence_;  // outlives client_
  std::unique_ptr<mqtt::async_client> client_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  // The batch of messages not logged yet (QoS 0, and a QoS 1/2 message until its callback
  // flushes it).
  std::mutex flush_mu_;  // held by Flush: one batch at a time, in order
  std::mutex batch_mu_;
  std::condition_variable batch_cv_;
  std::vector<Record> batch_;
  size_t batch_bytes_ = 0;
  bool batch_sync_ = false;  // holds a QoS 1/2 message: fsync with `sync`
  bool flusher_waiting_ = false;
  std::thread flusher_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false, need_subscribe_ = false, subscribed_ = false, drop_connection_ = false;
  bool ever_running_ = false;
  std::string tls_error_;
  SourceState state_ = SourceState::kStarting;
  std::string message_;
  uint64_t reconnects_ = 0, wakeups_ = 0;
};

Status CheckMqtt(const cep::ConfigNode& options, const std::string& path,
                 const cep::SecretSource& secrets, MqttSettings* s) {
  Status st = ApplySourceOptions(MqttOptions(), options, path, secrets, s);
  std::string errors = st.ok() ? std::string() : st.message();
  if (const cep::ConfigNode* tls = options.is_map() ? options.Find("tls") : nullptr;
      tls && !tls->is_null()) {
    Status ts = cep::ApplyOptions(MqttTlsOptions(), *tls, path + ".tls", &s->tls, secrets);
    if (!ts.ok()) errors += (errors.empty() ? "" : "\n") + ts.message();
  }
  if (errors.empty() && (!s->tls.cert_file.empty()) != (!s->tls.key_file.empty())) {
    errors = path + ".tls: cert_file and key_file go together";
  }
  return errors.empty() ? Status::Ok() : Status::InvalidArgument(errors);
}

}  // namespace

SourceType MqttSourceType() {
  SourceType t;
  t.name = "mqtt";
  t.summary =
      "Messages of MQTT topic filters (Paho; MQTT 3.1.1 or 5; QoS 0, 1 or 2; wildcards and "
      "`$share/<group>/...` shared subscriptions; TLS with CA and client certificates). Each "
      "message's topic is the field `mqtt.topic`. The broker cannot replay, so every message "
      "is written to the stream's ingest log before Paho acknowledges it (PUBACK / PUBREC "
      "follow the message callback's return; for MQTT 3.1.1 QoS 2, whose PUBREC Paho sends on "
      "arrival, Paho's own persistence is the state store too). With `state.durability: sync` "
      "that write is fsync'd, one message at a time (Paho hands them over one by one); QoS 0 "
      "messages are logged without fsync, in batches (a message waits at most 1 ms for "
      "others to join its batch). With `clean_start: false` the broker keeps the "
      "session while Vigil is away; lost connections are retried with doubling waits "
      "(`reconnect_min` .. `reconnect_max`). A full queue makes the callback wait, so the "
      "broker holds the backlog.";
  t.check = [](const cep::ConfigNode& options, const std::string& path,
               const cep::SecretSource& secrets) {
    MqttSettings s;
    return CheckMqtt(options, path, secrets, &s);
  };
  t.create = [](const cep::ConfigNode& options, const std::string& path,
                const SourceContext& ctx) -> Result<std::unique_ptr<Source>> {
    MqttSettings s;
    Status st =
        CheckMqtt(options, path, ctx.secrets ? *ctx.secrets : cep::SecretSource::Process(), &s);
    if (!st.ok()) return st;
    return std::unique_ptr<Source>(new MqttSource(s, ctx));
  };
  t.options_markdown = [] {
    return cep::OptionsMarkdown(MqttOptions()) + "\n`tls:`\n\n" +
           cep::OptionsMarkdown(MqttTlsOptions());
  };
  return t;
}

}  // namespace vigil::ingest
