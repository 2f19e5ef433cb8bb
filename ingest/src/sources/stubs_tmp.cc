#include "sources/source_types.h"
namespace vigil::ingest {
SourceType KafkaSourceType() { SourceType t; t.name = "kafka"; t.options_markdown = [] { return std::string(); }; return t; }
SourceType MqttSourceType() { SourceType t; t.name = "mqtt"; t.options_markdown = [] { return std::string(); }; return t; }
}
