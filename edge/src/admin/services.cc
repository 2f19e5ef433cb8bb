#include "admin/services.h"

#include <string>
#include <utility>
#include <vector>

namespace vigil::edge::admin {

grpc::Status ToGrpc(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return grpc::Status::OK;
    case Status::Code::kInvalidArgument:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, status.message());
    case Status::Code::kNotFound:
      return grpc::Status(grpc::StatusCode::NOT_FOUND, status.message());
    case Status::Code::kUnavailable:
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, status.message());
    case Status::Code::kCorruption:
      return grpc::Status(grpc::StatusCode::DATA_LOSS, status.message());
    case Status::Code::kIOError:
      break;
  }
  return grpc::Status(grpc::StatusCode::INTERNAL, status.message());
}

namespace {

void Count(ServiceState* state) {
  state->requests.fetch_add(1, std::memory_order_relaxed);
}

grpc::Status RequireId(const std::string& id) {
  if (id.empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "id: required");
  return grpc::Status::OK;
}

grpc::Status RequireYaml(const std::string& yaml) {
  if (yaml.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "yaml: required (a rule document)");
  }
  return grpc::Status::OK;
}

}  // namespace

// ---- Rules

grpc::Status RulesService::List(grpc::ServerContext*, const v1::ListRulesRequest*,
                                v1::ListRulesResponse* reply) {
  Count(state_);
  for (v1::Rule& r : state_->backend->ListRules())
    *reply->add_rules() = std::move(r);
  return grpc::Status::OK;
}

grpc::Status RulesService::Get(grpc::ServerContext*, const v1::GetRuleRequest* request,
                               v1::Rule* reply) {
  Count(state_);
  if (grpc::Status s = RequireId(request->id()); !s.ok()) return s;
  Result<v1::Rule> r = state_->backend->GetRule(request->id());
  if (!r.ok()) return ToGrpc(r.status());
  *reply = std::move(r).value();
  return grpc::Status::OK;
}

grpc::Status RulesService::Validate(grpc::ServerContext*, const v1::ValidateRulesRequest* request,
                                    v1::ValidateRulesResponse* reply) {
  Count(state_);
  if (grpc::Status s = RequireYaml(request->yaml()); !s.ok()) return s;
  *reply = state_->backend->ValidateRules(request->yaml(),
                                          request->name().empty() ? "api" : request->name());
  return grpc::Status::OK;
}

grpc::Status RulesService::Apply(grpc::ServerContext*, const v1::ApplyRulesRequest* request,
                                 v1::ApplyRulesResponse* reply) {
  Count(state_);
  if (grpc::Status s = RequireYaml(request->yaml()); !s.ok()) return s;
  if (request->name().empty()) {
    // The name is what a later Apply replaces: without one, every Apply would add a document.
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "name: required (applying the same name again replaces the document)");
  }
  Result<v1::ApplyRulesResponse> r = state_->backend->ApplyRules(request->yaml(), request->name());
  if (!r.ok()) return ToGrpc(r.status());
  *reply = std::move(r).value();
  return grpc::Status::OK;
}

grpc::Status RulesService::Delete(grpc::ServerContext*, const v1::DeleteRuleRequest* request,
                                  v1::DeleteRuleResponse*) {
  Count(state_);
  if (grpc::Status s = RequireId(request->id()); !s.ok()) return s;
  return ToGrpc(state_->backend->DeleteRule(request->id()));
}

// Enable and Disable are two methods so that the verb, not a flag that could be left at its
// default, says what happens; the request's `enabled` is ignored.
grpc::Status RulesService::Enable(grpc::ServerContext*, const v1::SetRuleEnabledRequest* request,
                                  v1::SetRuleEnabledResponse*) {
  Count(state_);
  if (grpc::Status s = RequireId(request->id()); !s.ok()) return s;
  return ToGrpc(state_->backend->SetRuleEnabled(request->id(), true));
}

grpc::Status RulesService::Disable(grpc::ServerContext*, const v1::SetRuleEnabledRequest* request,
                                   v1::SetRuleEnabledResponse*) {
  Count(state_);
  if (grpc::Status s = RequireId(request->id()); !s.ok()) return s;
  return ToGrpc(state_->backend->SetRuleEnabled(request->id(), false));
}

// ---- Alerts

grpc::Status AlertsService::Tail(grpc::ServerContext* context, const v1::TailAlertsRequest* request,
                                 grpc::ServerWriter<v1::Alert>* writer) {
  Count(state_);
  std::unique_ptr<AlertSubscription> sub =
      state_->backend->SubscribeAlerts(request->filter(), request->backlog());
  if (!sub) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "alerts cannot be tailed now");
  state_->tails_open.fetch_add(1);
  struct Closing {
    ServiceState* state;
    ~Closing() { state->tails_open.fetch_sub(1); }
  } closing{state_};
  // Next() waits at most tail_poll, so a cancelled call or a server shutting down is noticed
  // that soon: no handler thread outlives Shutdown.
  const int poll_ms = static_cast<int>(state_->tail_poll.count());
  v1::Alert alert;
  while (!state_->stopping.load() && !context->IsCancelled()) {
    bool stopping = false;
    alert.Clear();
    if (sub->Next(&alert, poll_ms, &stopping)) {
      if (!writer->Write(alert)) break;  // the client went away
      continue;
    }
    if (stopping) break;
  }
  if (state_->stopping.load() && !context->IsCancelled()) {
    // The server is shutting down: what was raised before still reaches the client (bounded,
    // in case alerts keep coming faster than it reads).
    bool stopping = false;
    for (int i = 0; i < 10000 && sub->Next(&alert, 0, &stopping); ++i) {
      if (!writer->Write(alert)) break;
      alert.Clear();
    }
  }
  context->AddTrailingMetadata(kTailDroppedKey, std::to_string(sub->dropped()));
  // A tail ends only because the server or the appliance stops (or the client left): that
  // is the stream's normal end, not an error.
  return grpc::Status::OK;
}

grpc::Status AlertsService::Recent(grpc::ServerContext*, const v1::RecentAlertsRequest* request,
                                   v1::RecentAlertsResponse* reply) {
  Count(state_);
  uint32_t limit = request->limit() == 0 ? 100 : request->limit();
  for (v1::Alert& a : state_->backend->RecentAlerts(request->filter(), limit)) {
    *reply->add_alerts() = std::move(a);
  }
  return grpc::Status::OK;
}

// ---- Ingest

grpc::Status IngestService::Publish(grpc::ServerContext*,
                                    grpc::ServerReader<v1::PublishRequest>* reader,
                                    v1::PublishResponse* reply) {
  Count(state_);
  uint64_t accepted = 0;
  v1::PublishRequest batch;
  while (reader->Read(&batch)) {
    if (batch.stream().empty()) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "stream: required (" + std::to_string(accepted) + " records accepted before this batch)");
    }
    if (batch.records_size() == 0) continue;
    std::vector<std::string> records;
    records.reserve(static_cast<size_t>(batch.records_size()));
    for (std::string& r : *batch.mutable_records())
      records.push_back(std::move(r));
    size_t n = records.size();
    Result<uint64_t> r = state_->backend->Publish(batch.stream(), std::move(records));
    if (!r.ok()) {
      // The reply message is not sent with an error status, so the count travels in the
      // message: the client knows which records to send again.
      grpc::Status s = ToGrpc(r.status());
      return grpc::Status(s.error_code(), "stream '" + batch.stream() + "': " + s.error_message() +
                                              " (" + std::to_string(accepted) +
                                              " records accepted before this batch)");
    }
    accepted += n;
  }
  reply->set_accepted(accepted);
  return grpc::Status::OK;
}

// ---- Admin

grpc::Status AdminService::Status(grpc::ServerContext*, const v1::StatusRequest*,
                                  v1::StatusResponse* reply) {
  Count(state_);
  *reply = state_->backend->Status();
  return grpc::Status::OK;
}

grpc::Status AdminService::Checkpoint(grpc::ServerContext*, const v1::CheckpointRequest*,
                                      v1::CheckpointResponse* reply) {
  Count(state_);
  Result<v1::CheckpointResponse> r = state_->backend->Checkpoint();
  if (!r.ok()) return ToGrpc(r.status());
  *reply = std::move(r).value();
  return grpc::Status::OK;
}

grpc::Status AdminService::Health(grpc::ServerContext*, const v1::HealthRequest*,
                                  v1::HealthResponse* reply) {
  Count(state_);
  *reply = state_->backend->Health();
  return grpc::Status::OK;
}

}  // namespace vigil::edge::admin
