// host/metrics: the Prometheus text format (escaping, invalid names left
// out), the HTTP request-head parser on valid, malformed, oversized and
// random input, the response for each case, and the server on 127.0.0.1
// (GET /metrics, 404/405/400, bounded connections, silent clients closed).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "host/metrics/http_server.h"
#include "host/metrics/registry.h"

namespace sb::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(RenderTextTest, CountersGaugesLabelsAndEscaping) {
  std::vector<MetricFamily> f = {
      {"sb_requests_total",
       "Requests.\nSecond line \\ here",
       MetricType::kCounter,
       {{{{"op", "get"}}, 12}, {{{"op", "put"}, {"k", "a\"b\\c\nd"}}, 3}}},
      {"sb_up", "Up.", MetricType::kGauge, {{{}, 0.5}}},
  };
  EXPECT_EQ(RenderText(f),
            "# HELP sb_requests_total Requests.\\nSecond line \\\\ here\n"
            "# TYPE sb_requests_total counter\n"
            "sb_requests_total{op=\"get\"} 12\n"
            "sb_requests_total{op=\"put\",k=\"a\\\"b\\\\c\\nd\"} 3\n"
            "# HELP sb_up Up.\n"
            "# TYPE sb_up gauge\n"
            "sb_up 0.5\n");
}

TEST(RenderTextTest, LargeCountersAndSpecialValues) {
  std::vector<MetricFamily> f = {
      {"a", "", MetricType::kCounter, {{{}, 18446744073709551615.0}}},
      {"b", "", MetricType::kGauge, {{{}, 1.0 / 0.0}}},
      {"c", "", MetricType::kGauge, {{{}, 123456789012.0}}},
  };
  std::string t = RenderText(f);
  EXPECT_THAT(t, HasSubstr("a 1.8446744073709552e+19\n"));
  EXPECT_THAT(t, HasSubstr("b +Inf\n"));
  EXPECT_THAT(t, HasSubstr("c 123456789012\n"));
}

TEST(RenderTextTest, InvalidNamesAreLeftOut) {
  EXPECT_TRUE(ValidMetricName("shardbearer_x:y_total"));
  EXPECT_FALSE(ValidMetricName("9lives"));
  EXPECT_FALSE(ValidMetricName("a-b"));
  EXPECT_FALSE(ValidMetricName(""));
  EXPECT_TRUE(ValidLabelName("result"));
  EXPECT_FALSE(ValidLabelName("__name"));
  EXPECT_FALSE(ValidLabelName("a:b"));
  std::vector<MetricFamily> f = {
      {"bad name", "", MetricType::kGauge, {{{}, 1}}},
      {"ok", "", MetricType::kGauge, {{{{"bad-label", "x"}}, 1}, {{}, 2}}},
      {"ok", "again", MetricType::kGauge, {{{}, 3}}},
      {"dup", "", MetricType::kGauge, {{{{"a", "1"}, {"a", "2"}}, 1}}},
  };
  std::string t = RenderText(f);
  EXPECT_THAT(t, HasSubstr("# invalid metric name left out\n"));
  EXPECT_THAT(t, HasSubstr("# invalid label in a sample of ok left out\n"));
  EXPECT_THAT(t, HasSubstr("\nok 2\n"));
  EXPECT_THAT(t, HasSubstr("# duplicate family ok left out\n"));
  EXPECT_THAT(t, HasSubstr("# invalid label in a sample of dup left out\n"));
  EXPECT_EQ(t.find("bad name 1"), std::string::npos);
  EXPECT_EQ(t.find("ok 3"), std::string::npos);
}

TEST(RegistryTest, CollectorsRunOnEveryRender) {
  Registry r;
  int calls = 0;
  r.Add([&](std::vector<MetricFamily>* out) {
    ++calls;
    out->push_back(
        {"n", "", MetricType::kCounter, {{{}, static_cast<double>(calls)}}});
  });
  EXPECT_THAT(r.Render(), HasSubstr("n 1\n"));
  EXPECT_THAT(r.Render(), HasSubstr("n 2\n"));
}

HeadParse Parse(const std::string& s, HttpRequestHead* h = nullptr,
                size_t max = 8192) {
  HttpRequestHead local;
  std::string why;
  return ParseRequestHead(s, max, h ? h : &local, &why);
}

TEST(HttpParseTest, ValidHeads) {
  HttpRequestHead h;
  EXPECT_EQ(
      Parse("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", &h),
      HeadParse::kComplete);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/metrics");
  EXPECT_EQ(h.version, "HTTP/1.1");
  EXPECT_EQ(Parse("GET /metrics?x=1 HTTP/1.0\n\n", &h), HeadParse::kComplete);
  EXPECT_EQ(h.target, "/metrics?x=1");
  // Bytes after the head (a body, a pipelined request) are not looked at.
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\n\r\ngarbage\0\x01", &h),
            HeadParse::kComplete);
}

TEST(HttpParseTest, IncompleteUntilTheBlankLine) {
  EXPECT_EQ(Parse(""), HeadParse::kIncomplete);
  EXPECT_EQ(Parse("GET /metrics HTTP/1.1\r\n"), HeadParse::kIncomplete);
  EXPECT_EQ(Parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r"),
            HeadParse::kIncomplete);
}

TEST(HttpParseTest, BadHeads) {
  for (const char* bad : {
           "\r\n\r\n",
           "GET\r\n\r\n",
           "GET /metrics\r\n\r\n",
           "GET  /metrics HTTP/1.1\r\n\r\n",
           "GET /metrics HTTP/1.1 extra\r\n\r\n",
           "G(T /metrics HTTP/1.1\r\n\r\n",
           "GET metrics HTTP/1.1\r\n\r\n",
           "GET /met\x01rics HTTP/1.1\r\n\r\n",
           "GET /metrics HTTQ/1.1\r\n\r\n",
           "GET /metrics HTTP/11\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
           "GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n",
           "GET /metrics HTTP/1.1\r\n folded: x\r\n\r\n",
       }) {
    EXPECT_EQ(Parse(bad), HeadParse::kBad) << bad;
  }
  const char kNul[] = "GET /metrics HTTP/1.1\r\nA: \0\r\n\r\n";
  const std::string nul(kNul, sizeof kNul - 1);
  EXPECT_EQ(Parse(nul), HeadParse::kBad);
}

TEST(HttpParseTest, TooLarge) {
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a');
  EXPECT_EQ(Parse(big), HeadParse::kTooLarge);
  EXPECT_EQ(Parse(big + "\r\n\r\n"), HeadParse::kTooLarge);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\n\r\n", nullptr, 10), HeadParse::kTooLarge);
}

TEST(HttpParseTest, RandomInputNeverCrashes) {
  std::mt19937 g(42);
  const char kAlphabet[] = "GET /metricsHTP1.0\r\n: \x00\xff\t";
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);
  for (int i = 0; i < 20000; ++i) {
    std::string s(g() % 200, '\0');
    for (char& c : s) c = alphabet[g() % alphabet.size()];
    HttpRequestHead h;
    std::string why;
    HeadParse p = ParseRequestHead(s, 128, &h, &why);
    if (p == HeadParse::kBad || p == HeadParse::kTooLarge) {
      EXPECT_FALSE(why.empty());
    }
    std::string r = Respond(p, h, why, [] { return "x"; });
    EXPECT_THAT(r, StartsWith("HTTP/1.1 "));
  }
}

std::string RespondTo(const std::string& req) {
  HttpRequestHead h;
  std::string why;
  HeadParse p = ParseRequestHead(req, 8192, &h, &why);
  return Respond(p, h, why, [] { return "body\n"; });
}

TEST(HttpRespondTest, StatusCodes) {
  std::string ok = RespondTo("GET /metrics?a=b HTTP/1.1\r\n\r\n");
  EXPECT_THAT(ok, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(ok, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(ok, HasSubstr("Content-Length: 5\r\n"));
  EXPECT_THAT(ok, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(ok, HasSubstr("\r\n\r\nbody\n"));
  EXPECT_THAT(RespondTo("GET / HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(RespondTo("GET /metricsx HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 404"));
  std::string post = RespondTo("POST /metrics HTTP/1.1\r\n\r\n");
  EXPECT_THAT(post, StartsWith("HTTP/1.1 405"));
  EXPECT_THAT(post, HasSubstr("Allow: GET\r\n"));
  EXPECT_THAT(RespondTo("HEAD /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 405"));
  EXPECT_THAT(RespondTo("GET /metrics HTTP/2.0\r\n\r\n"),
              StartsWith("HTTP/1.1 505"));
  EXPECT_THAT(RespondTo("junk\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(
      RespondTo("GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a')),
      StartsWith("HTTP/1.1 431"));
}

int Dial(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{10, 0};  // bounded reads
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends `req` and reads until the server closes (bounded by the timeout).
std::string Exchange(uint16_t port, const std::string& req) {
  int fd = Dial(port);
  if (fd < 0) return "<connect failed>";
  if (!req.empty()) send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

TEST(MetricsServerTest, ServesAndRefuses) {
  auto s = MetricsServer::Start({"127.0.0.1", 0},
                                [] { return std::string("sb_up 1\n"); });
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const uint16_t port = (*s)->port();
  ASSERT_GT(port, 0);
  std::string r = Exchange(port, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(r, HasSubstr("\r\n\r\nsb_up 1\n"));
  EXPECT_THAT(Exchange(port, "GET /nope HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(Exchange(port, "DELETE /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 405"));
  EXPECT_THAT(
      Exchange(port, std::string("\x16\x03\x01\x02\x00\x01\x00\r\n\r\n", 11)),
      StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange(port, std::string(20000, 'A')),
              StartsWith("HTTP/1.1 431"));
  // Still serving after all that.
  EXPECT_THAT(Exchange(port, "GET /metrics HTTP/1.0\r\n\r\n"),
              StartsWith("HTTP/1.1 200 OK"));
}

TEST(MetricsServerTest, ConnectionLimitAndSilentClients) {
  MetricsServerOptions o;
  o.max_connections = 2;
  o.request_timeout_ms = 3000;
  auto s = MetricsServer::Start(
      {"127.0.0.1", 0}, [] { return std::string("x 1\n"); }, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const uint16_t port = (*s)->port();
  // Two silent connections fill the server; a third is closed at once
  // (reads EOF without an answer).
  int a = Dial(port), b = Dial(port);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n"), "");
  // The silent ones are closed by the server after the request timeout
  // (EOF, bounded by the 10 s receive timeout).
  char c;
  EXPECT_EQ(recv(a, &c, 1, 0), 0);
  EXPECT_EQ(recv(b, &c, 1, 0), 0);
  close(a);
  close(b);
  // Then there is room again (bounded retries while the loop catches up).
  std::string r;
  for (int i = 0; i < 50 && r.empty(); ++i) {
    r = Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n");
    if (r.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK"));
}

TEST(MetricsServerTest, BindFailureIsAClearError) {
  auto a = MetricsServer::Start({"127.0.0.1", 0}, [] { return ""; });
  ASSERT_TRUE(a.ok());
  auto b = MetricsServer::Start({"127.0.0.1", (*a)->port()}, [] { return ""; });
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("cannot listen on 127.0.0.1:"));
}

}  // namespace
}  // namespace sb::metrics
