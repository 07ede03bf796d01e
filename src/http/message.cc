#include "http/message.h"

#include <unordered_set>

#include "core/json_writer.h"

namespace thunder::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) {
        return Status::InvalidArgument("invalid_query", "truncated %-escape in query string");
      }
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("invalid_query", "bad %-escape in query string");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  if (!IsValidUtf8(out)) {
    return Status::InvalidArgument("invalid_utf8", "query string is not valid UTF-8");
  }
  return out;
}

}  // namespace

std::optional<std::string_view> Request::QueryParam(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

Response ErrorResponse(const Status& status) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Key("code").String(status.code().empty() ? DefaultCodeFor(status.kind()) : status.code());
  w.Key("message").String(status.message());
  if (!status.field().empty()) w.Key("field").String(status.field());
  w.EndObject().EndObject();
  return Response::Json(status.http_status(), w.Take());
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQueryString(std::string_view qs) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unordered_set<std::string> seen;  // a linear check per key would be quadratic
  while (!qs.empty()) {
    const size_t amp = qs.find('&');
    const std::string_view part = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    ASSIGN_OR_RETURN(std::string key, PercentDecode(part.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      ASSIGN_OR_RETURN(value, PercentDecode(part.substr(eq + 1)));
    }
    // `?limit=1&limit=2` would leave it to the handler which one counts: refused instead.
    if (!seen.insert(key).second) {
      return Status::InvalidArgument("duplicate_query_parameter",
                                     "'" + key + "' appears more than once in the query", key);
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace thunder::http
