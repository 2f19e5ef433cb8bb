// Internal: the four gRPC services of the admin API, each a thin translation of calls into
// AdminBackend calls and of vigil::Status into grpc::Status.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "vigil/cep/status.h"
#include "vigil/edge/admin_backend.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/alerts.grpc.pb.h"
#include "vigil/v1/ingest.grpc.pb.h"
#include "vigil/v1/rules.grpc.pb.h"

namespace vigil::edge::admin {

// What the services share with the server: counters and the shutdown flag.
struct ServiceState {
  AdminBackend* backend = nullptr;
  std::chrono::milliseconds tail_poll{100};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> tails_open{0};
};

// NotFound → NOT_FOUND, InvalidArgument → INVALID_ARGUMENT, Unavailable → UNAVAILABLE,
// IOError → INTERNAL, Corruption → DATA_LOSS; the message is kept.
grpc::Status ToGrpc(const Status& status);

class RulesService final : public v1::Rules::Service {
 public:
  explicit RulesService(ServiceState* state) : state_(state) {}
  grpc::Status List(grpc::ServerContext*, const v1::ListRulesRequest*,
                    v1::ListRulesResponse* reply) override;
  grpc::Status Get(grpc::ServerContext*, const v1::GetRuleRequest* request,
                   v1::Rule* reply) override;
  grpc::Status Validate(grpc::ServerContext*, const v1::ValidateRulesRequest* request,
                        v1::ValidateRulesResponse* reply) override;
  grpc::Status Apply(grpc::ServerContext*, const v1::ApplyRulesRequest* request,
                     v1::ApplyRulesResponse* reply) override;
  grpc::Status Delete(grpc::ServerContext*, const v1::DeleteRuleRequest* request,
                      v1::DeleteRuleResponse* reply) override;
  grpc::Status Enable(grpc::ServerContext*, const v1::SetRuleEnabledRequest* request,
                      v1::SetRuleEnabledResponse* reply) override;
  grpc::Status Disable(grpc::ServerContext*, const v1::SetRuleEnabledRequest* request,
                       v1::SetRuleEnabledResponse* reply) override;

 private:
  ServiceState* state_;
};

class AlertsService final : public v1::Alerts::Service {
 public:
  explicit AlertsService(ServiceState* state) : state_(state) {}
  grpc::Status Tail(grpc::ServerContext* context, const v1::TailAlertsRequest* request,
                    grpc::ServerWriter<v1::Alert>* writer) override;
  grpc::Status Recent(grpc::ServerContext*, const v1::RecentAlertsRequest* request,
                      v1::RecentAlertsResponse* reply) override;

 private:
  ServiceState* state_;
};

class IngestService final : public v1::Ingest::Service {
 public:
  explicit IngestService(ServiceState* state) : state_(state) {}
  grpc::Status Publish(grpc::ServerContext*, grpc::ServerReader<v1::PublishRequest>* reader,
                       v1::PublishResponse* reply) override;

 private:
  ServiceState* state_;
};

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(ServiceState* state) : state_(state) {}
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*,
                      v1::StatusResponse* reply) override;
  grpc::Status Checkpoint(grpc::ServerContext*, const v1::CheckpointRequest*,
                          v1::CheckpointResponse* reply) override;
  grpc::Status Health(grpc::ServerContext*, const v1::HealthRequest*,
                      v1::HealthResponse* reply) override;

 private:
  ServiceState* state_;
};

// The trailing metadata key of Alerts.Tail: how many alerts the subscriber was too slow for.
inline constexpr char kTailDroppedKey[] = "vigil-alerts-dropped";

}  // namespace vigil::edge::admin
