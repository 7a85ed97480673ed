// host/metrics/registry.cc — see registry.h.
#include "host/metrics/registry.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

namespace sb::metrics {
namespace {

bool NameChar(char c, bool first, bool colon_ok) {
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return true;
  if (colon_ok && c == ':') return true;
  return !first && std::isdigit(static_cast<unsigned char>(c));
}

// Help text: backslash and newline escaped.
std::string EscapeHelp(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Label values: backslash, double quote and newline escaped.
std::string EscapeLabelValue(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integers (counters are) print exactly up to 2^53.
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

bool ValidMetricName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, true)) return false;
  }
  return true;
}

bool ValidLabelName(const std::string& name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, false)) return false;
  }
  return true;
}

std::string RenderText(const std::vector<MetricFamily>& families) {
  std::string out;
  std::set<std::string> seen;
  for (const MetricFamily& f : families) {
    if (!ValidMetricName(f.name)) {
      out += "# invalid metric name left out\n";
      continue;
    }
    if (!seen.insert(f.name).second) {
      out += "# duplicate family " + f.name + " left out\n";
      continue;
    }
    out += "# HELP " + f.name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + f.name + " " +
           (f.type == MetricType::kCounter ? "counter" : "gauge") + "\n";
    for (const Sample& s : f.samples) {
      std::string labels;
      bool ok = true;
      std::set<std::string> names;
      for (const auto& [k, v] : s.labels) {
        if (!ValidLabelName(k) || !names.insert(k).second) {
          ok = false;
          break;
        }
        labels += (labels.empty() ? "" : ",") + k + "=\"" +
                  EscapeLabelValue(v) + "\"";
      }
      if (!ok) {
        out += "# invalid label in a sample of " + f.name + " left out\n";
        continue;
      }
      out += f.name;
      if (!labels.empty()) out += "{" + labels + "}";
      out += " " + FormatValue(s.value) + "\n";
    }
  }
  return out;
}

void Registry::Add(Collector collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MetricFamily> families;
  for (const Collector& c : collectors_) c(&families);
  return RenderText(families);
}

}  // namespace sb::metrics
