// MQTT into Vigil: a local mosquitto on a free loopback port, mosquitto_pub processes
// publishing JSON sensor readings (-l, one message per line), and the mqtt source
// subscribed, its records popped as the engine thread would. Timed from the first message
// received to the last. Prints one JSON object.
//
//   build/release/bench/mqtt_ingest_bench [--messages N] [--publishers K] [--qos 0|1|2]
//       [--durability none|buffered|sync] [--store memory|rocksdb] [--version 3.1.1|5]
//       [--baseline true] [--publisher raw|mosquitto_pub]
//
// --publisher raw (the default for QoS 0) is this program as a minimal MQTT client in a
// process of its own: CONNECT, then every line as a QoS 0 PUBLISH, written 64 KiB at a time.
// mosquitto_pub -l makes one write per message and, with two of them on a 2-core machine,
// takes the CPU the broker and the subscriber need (it was the bottleneck of this bench).
// mosquitto_pub is used for QoS 1 and 2 (acknowledgements to handle).
// Messages a broker drops (QoS 0 to a slow subscriber) show as "received" < "messages".
// --baseline true first runs mosquitto_sub (libmosquitto) as the subscriber of the same
// load: what the broker and a C client reach on this machine at this moment.
// mosquitto_pub -l (2.0.11) may exit before it has sent every QoS 1/2 message of a long
// input (100k lines: a third arrive); keep QoS > 0 runs to about 5000 messages per
// publisher.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "vigil/cep/state_store.h"
#include "vigil/ingest/record_queue.h"
#include "vigil/ingest/source_registry.h"

namespace {

using namespace vigil;
using Steady = std::chrono::steady_clock;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// Starts `argv` with standard input from `input` (or /dev/null) and output discarded.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& input) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphaned broker if the bench dies
    int in = open(input.empty() ? "/dev/null" : input.c_str(), O_RDONLY);
    int null = open("/dev/null", O_WRONLY);
    dup2(in, 0);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void PutLength(size_t n, std::string* out) {
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    out->push_back(static_cast<char>(n ? b | 0x80 : b));
  } while (n);
}

void PutString(std::string_view s, std::string* out) {
  out->push_back(static_cast<char>(s.size() >> 8));
  out->push_back(static_cast<char>(s.size() & 0xff));
  out->append(s);
}

bool WriteAll(int fd, const std::string& buf) {
  for (size_t off = 0; off < buf.size();) {
    ssize_t w = write(fd, buf.data() + off, buf.size() - off);
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

// The raw publisher's process: QoS 0 PUBLISH packets for every line of `input`.
int RawPublish(int port, const std::string& topic, bool v5, const std::string& input) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 1;
  std::string body, packet;
  PutString("MQTT", &body);
  body.push_back(v5 ? 5 : 4);
  body.push_back(0x02);  // clean session
  body.push_back(0);
  body.push_back(60);         // keep alive
  if (v5) body.push_back(0);  // no properties
  PutString("bench-pub-" + std::to_string(getpid()), &body);
  packet.push_back(0x10);
  PutLength(body.size(), &packet);
  packet += body;
  if (!WriteAll(fd, packet)) return 1;
  unsigned char connack[64];
  ssize_t got = read(fd, connack, sizeof connack);
  if (got < 4 || connack[0] != 0x20 || connack[3] != 0) return 1;
  std::ifstream in(input);
  std::string line, buf;
  buf.reserve(1 << 17);
  while (std::getline(in, line)) {
    buf.push_back(0x30);
    PutLength(2 + topic.size() + (v5 ? 1 : 0) + line.size(), &buf);
    PutString(topic, &buf);
    if (v5) buf.push_back(0);
    buf += line;
    if (buf.size() >= (1 << 16)) {
      if (!WriteAll(fd, buf)) return 1;
      buf.clear();
    }
  }
  buf.push_back(static_cast<char>(0xe0));  // DISCONNECT
  buf.push_back(0);
  if (!WriteAll(fd, buf)) return 1;
  // The broker closes after DISCONNECT: everything written before it has been read.
  shutdown(fd, SHUT_WR);
  while (read(fd, connack, sizeof connack) > 0) {
  }
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::string(argv[1]) == "--raw-publish") {
    return RawPublish(std::stoi(argv[2]), argv[3], std::string(argv[4]) == "5", argv[5]);
  }
  size_t n = 1'000'000;
  int publishers = 2;
  std::string qos = "0", durability = "buffered", store_kind = "rocksdb", version = "5";
  bool baseline = false;
  std::string publisher;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--messages")
      n = std::stoul(v);
    else if (k == "--publishers")
      publishers = std::stoi(v);
    else if (k == "--qos")
      qos = v;
    else if (k == "--durability")
      durability = v;
    else if (k == "--store")
      store_kind = v;
    else if (k == "--version")
      version = v;
    else if (k == "--baseline")
      baseline = v == "true";
    else if (k == "--publisher")
      publisher = v;
    else {
      std::fprintf(stderr, "mqtt_ingest_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (publisher.empty()) publisher = qos == "0" ? "raw" : "mosquitto_pub";
  if (publisher != "raw" && publisher != "mosquitto_pub") {
    std::fprintf(stderr, "mqtt_ingest_bench: --publisher raw or mosquitto_pub\n");
    return 2;
  }
  if (publisher == "raw" && qos != "0") {
    std::fprintf(stderr, "mqtt_ingest_bench: --publisher raw publishes QoS 0 only\n");
    return 2;
  }
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string dir = (std::filesystem::temp_directory_path() / "vigil-mqtt-bench-XXXXXX").string();
  if (!mkdtemp(dir.data())) return 1;
  const int port = FreePort();
  passwd* pw = getpwuid(getuid());
  {
    std::ofstream conf(dir + "/mosquitto.conf");
    conf << "listener " << port << " 127.0.0.1\nallow_anonymous true\nuser "
         << (pw ? pw->pw_name : "root")
         << "\nmax_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 100\n";
  }
  pid_t broker = Spawn({"/usr/sbin/mosquitto", "-c", dir + "/mosquitto.conf"}, "");
  auto deadline = Steady::now() + std::chrono::seconds(20);
  while (!Accepts(port) && Steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  // One input file per publisher: JSON readings of a few hundred sensors.
  size_t bytes = 0;
  std::vector<std::string> inputs;
  for (int p = 0; p < publishers; ++p) {
    std::string path = dir + "/in" + std::to_string(p) + ".txt";
    std::ofstream f(path);
    for (size_t i = p; i < n; i += publishers) {
      std::string line = "{\"ts\":" + std::to_string(1733813746000 + i) + ",\"sensor\":\"s" +
                         std::to_string(i % 500) + "\",\"temp\":" + std::to_string(20 + i % 15) +
                         ".5,\"seq\":" + std::to_string(i) + "}";
      bytes += line.size();
      f << line << "\n";
    }
    inputs.push_back(path);
  }

  auto publish = [&] {
    std::vector<pid_t> pids;
    for (int p = 0; p < publishers; ++p) {
      std::string topic = "site/" + std::to_string(p) + "/sensors/temp";
      if (publisher == "raw") {
        pids.push_back(Spawn({self, "--raw-publish", std::to_string(port), topic, version,
                              inputs[static_cast<size_t>(p)]},
                             ""));
        continue;
      }
      pids.push_back(
          Spawn({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port), "-t",
                 topic, "-q", qos, "-l", "-V", version == "5" ? "mqttv5" : "mqttv311"},
                inputs[static_cast<size_t>(p)]));
    }
    return pids;
  };
  if (baseline) {
    // Time from the publishers' start to mosquitto_sub having received everything.
    pid_t sub = Spawn({"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(port),
                       "-t", "site/+/sensors/#", "-q", qos, "-C", std::to_string(n), "-V",
                       version == "5" ? "mqttv5" : "mqttv311"},
                      "");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let it subscribe (bench only)
    auto start = Steady::now();
    std::vector<pid_t> pids = publish();
    for (pid_t p : pids)
      waitpid(p, nullptr, 0);
    waitpid(sub, nullptr, 0);
    double secs = std::chrono::duration<double>(Steady::now() - start).count();
    std::printf(
        "{\"bench\":\"mqtt_ingest\",\"subscriber\":\"mosquitto_sub\",\"publisher\":\"%s\","
        "\"qos\":%s,\"messages\":%zu,\"seconds\":%.3f,\"messages_per_s\":%.0f}\n",
        publisher.c_str(), qos.c_str(), n, secs, n / secs);
    std::fflush(stdout);
  }

  std::unique_ptr<cep::StateStore> store;
  if (store_kind == "rocksdb") {
    auto s = cep::OpenRocksDbStore(dir + "/state");
    if (!s.ok()) {
      std::fprintf(stderr, "mqtt_ingest_bench: %s\n", s.status().message().c_str());
      return 1;
    }
    store = std::move(s).value();
  } else {
    store = cep::NewMemoryStore();
  }
  ingest::SourceContext ctx;
  ctx.stream = "sensors";
  ctx.node_id = "bench";
  ctx.store = store.get();
  ingest::ParseDurability(durability, &ctx.durability);
  ctx.log = [](ingest::LogLevel level, const std::string& msg) {
    if (level != ingest::LogLevel::kInfo) std::fprintf(stderr, "%s\n", msg.c_str());
  };
  cep::ConfigNode options = cep::ConfigNode::Map();
  options.Set("type", cep::ConfigNode::Scalar("mqtt"));
  options.Set("url", cep::ConfigNode::Scalar("tcp://127.0.0.1:" + std::to_string(port)));
  cep::ConfigNode topics = cep::ConfigNode::List();
  topics.Append(cep::ConfigNode::Scalar("site/+/sensors/#"));
  options.Set("topics", topics);
  options.Set("qos", cep::ConfigNode::Scalar(qos));
  options.Set("version", cep::ConfigNode::Scalar(version));
  options.Set("clean_start", cep::ConfigNode::Scalar("true"));
  auto source = ingest::CreateSource(options, "streams.sensors.source", ctx);
  if (!source.ok()) {
    std::fprintf(stderr, "mqtt_ingest_bench: %s\n", source.status().message().c_str());
    return 1;
  }
  ingest::RecordQueue queue;
  if (Status st = (*source)->Start(&queue, queue.AddSource("sensors")); !st.ok()) {
    std::fprintf(stderr, "mqtt_ingest_bench: %s\n", st.message().c_str());
    return 1;
  }
  deadline = Steady::now() + std::chrono::seconds(20);
  while ((*source)->status().message.rfind("subscribed", 0) != 0 && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::vector<pid_t> pubs = publish();
  std::vector<ingest::Record> batch;
  size_t got = 0;
  Steady::time_point first, last;
  auto idle_since = Steady::now();
  // Until everything arrived, or nothing came for 3 s after the publishers finished.
  int running = publishers;
  while (got < n) {
    batch.clear();
    size_t k = queue.Pop(&batch, 4096, 100 * cep::kMillisecond);
    for (const ingest::Record& r : batch) {
      if (r.kind != ingest::RecordKind::kData) continue;
      if (got++ == 0) first = Steady::now();
      (*source)->Processed(r);
    }
    if (k > 0) {
      last = Steady::now();
      idle_since = last;
    }
    for (pid_t& p : pubs) {
      int status;
      if (p > 0 && waitpid(p, &status, WNOHANG) == p) {
        p = -1;
        --running;
      }
    }
    if (running == 0 && Steady::now() - idle_since > std::chrono::seconds(3)) break;
  }
  double secs = std::chrono::duration<double>(last - first).count();
  ingest::SourceStatus st = (*source)->status();
  (*source)->Stop();
  for (pid_t p : pubs) {
    if (p > 0) {
      kill(p, SIGTERM);
      waitpid(p, nullptr, 0);
    }
  }
  kill(broker, SIGTERM);
  waitpid(broker, nullptr, 0);
  source.value().reset();
  store.reset();
  std::filesystem::remove_all(dir);
  std::printf(
      "{\"bench\":\"mqtt_ingest\",\"subscriber\":\"vigil\",\"publisher\":\"%s\",\"qos\":%s,"
      "\"version\":\"%s\","
      "\"durability\":\"%s\",\"store\":\"%s\","
      "\"publishers\":%d,\"messages\":%zu,\"received\":%zu,\"seconds\":%.3f,\"messages_per_s\":%."
      "0f,"
      "\"mb_per_s\":%.1f,\"backpressure_waits\":%llu}\n",
      publisher.c_str(), qos.c_str(), version.c_str(), durability.c_str(), store_kind.c_str(),
      publishers, n, got, secs, got / secs, bytes * (static_cast<double>(got) / n) / secs / 1e6,
      static_cast<unsigned long long>(st.backpressure_waits));
  return 0;
}
