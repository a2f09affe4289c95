// PaceScripts: see PaceScripts.hpp.
#include "mta/cluster/PaceScripts.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ferry::cluster {

namespace {

// The shared back-off as the scripts read it: the hash holds the rate set at `since`, its
// recovery period and base; the rate in force is rate x 1.5^(whole periods since), and the
// back-off is over once that reaches the base. Lazy, so no node has to be alive for it to end.
constexpr const char* kBackoffLua = R"lua(
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function backoff(key, now)
  local h = redis.call('HMGET', key, 'rate', 'since', 'period', 'base', 'halved')
  local r, s, p, b = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), tonumber(h[4])
  if not (r and s and p and b) or p <= 0 or r <= 0 then return 0, 0, 0, 0 end
  local steps = math.max(0, math.floor((now - s) / p))
  local eff = r * (1.5 ^ steps)
  if eff >= b then return 0, 0, 0, 0 end
  return eff, s + (steps + 1) * p, b, tonumber(h[5]) or s
end
local function set_backoff(key, now, rate, base, period)
  redis.call('HSET', key, 'rate', tostring(rate), 'since', now, 'period', period, 'base', tostring(base),
             'halved', now)
  local k = math.ceil(math.log(base / rate) / math.log(1.5))
  redis.call('PEXPIRE', key, (k + 1) * period)
end
)lua";

// GCRA (the generic cell rate algorithm): one number per destination, the time the next token
// is "due"; a token is granted while that time is no further ahead than the burst allows. The
// slot check comes first, so a connection that cannot open costs no token.
constexpr const char* kTakeLua = R"lua(
local now = now_ms()
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local want_slot, limit, lease = ARGV[4] == '1', tonumber(ARGV[5]), tonumber(ARGV[6])
local shared, next_step = backoff(KEYS[3], now)
local eff_rate, eff_burst = rate, burst
if shared > 0 and (rate <= 0 or shared < rate) then
  eff_rate = shared
  if rate > 0 then eff_burst = math.max(1, burst * shared / rate) else eff_burst = math.max(1, shared) end
end
if want_slot and limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= limit then return {0, 0, 0, 1, tostring(shared), next_step} end
end
local granted = -1
if eff_rate > 0 and want > 0 then
  local T = 1000 / eff_rate
  local tau = T * eff_burst
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
  if tat < now then tat = now end
  local n = math.floor((now + tau - tat) / T + 1e-9)
  if n > want then n = want end
  if n <= 0 then
    return {0, math.max(1, math.ceil(tat + T - tau - now)), 0, 0, tostring(shared), next_step}
  end
  tat = tat + n * T
  redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
  granted = n
elseif eff_rate > 0 then
  granted = 0
end
local slot = 0
if want_slot and limit > 0 then
  redis.call('ZADD', KEYS[2], now + lease, ARGV[7])
  redis.call('PEXPIRE', KEYS[2], lease * 2)
  slot = 1
end
return {granted, 0, slot, 0, tostring(shared), next_step}
)lua";

// One halving per round for the whole fleet: a reply to a delivery that started before the last
// halving speaks of the old rate, and so does one within the gap after it (the remote's window
// still holds what was accepted just before).
constexpr const char* kHalveLua = R"lua(
local now = now_ms()
local started, base, period, gap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cur, next_step, b, halved = backoff(KEYS[1], now)
if cur > 0 then
  base = b
  if started < halved or now - halved < math.min(gap, period) then return {0, tostring(cur), next_step} end
end
if not base or base <= 0 or period <= 0 then return {0, tostring(cur), next_step} end
local floor = math.max(base / 64, 1 / 60)
if floor > base then floor = base end
local new = math.max(floor, (cur > 0 and cur or base) / 2)
if cur > 0 and new >= cur then return {0, tostring(cur), next_step} end
set_backoff(KEYS[1], now, new, base, period)
return {1, tostring(new), now + period}
)lua";

constexpr const char* kMergeLua = R"lua(
local now = now_ms()
local rate, base, period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = backoff(KEYS[1], now)
if rate <= 0 or base <= 0 or period <= 0 or rate >= base or (cur > 0 and cur <= rate) then return 0 end
set_backoff(KEYS[1], now, rate, base, period)
return 1
)lua";

constexpr const char* kLeaseLua = R"lua(
local now = now_ms()
local lease = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, ARGV[i + 1])
  redis.call('PEXPIRE', key, lease * 2)
end
return #KEYS
)lua";

std::string script(const char* body) { return std::string(kBackoffLua) + body; }

std::string prefix(const std::string& name) { return "ferry:pace:{" + name + "}"; }

// A number from a script: an integer reply, or a string Lua wrote with tostring().
std::optional<double> number(const Reply& r) {
  if (r.type == ReplyType::Integer) return static_cast<double>(r.integer);
  if (r.type != ReplyType::String || r.text.empty() || r.text.size() > 40) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(r.text.c_str(), &end);
  if (end != r.text.c_str() + r.text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::int64_t> integer_in(const Reply& r, std::int64_t lo, std::int64_t hi) {
  if (r.type != ReplyType::Integer || r.integer < lo || r.integer > hi) return std::nullopt;
  return r.integer;
}

Error bad(std::string_view what) {
  return make_error(ErrorKind::Invalid, "Redis: unexpected pacing reply (" + std::string(what) + ")");
}

constexpr std::int64_t kMaxMs = 400LL * 365 * 24 * 3600 * 1000;  // a Unix time or span, sanely bounded
constexpr double kMaxRate = 1e9;

}  // namespace

std::string pace_tat_key(const std::string& name) { return prefix(name) + ":tat"; }
std::string pace_conn_key(const std::string& name) { return prefix(name) + ":conn"; }
std::string pace_backoff_key(const std::string& name) { return prefix(name) + ":backoff"; }

std::string format_pace_number(double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", std::isfinite(value) ? value : 0.0);
  return buf;
}

std::vector<Argv> encode_take(const PaceTake& t) {
  return {{"EVAL", script(kTakeLua), "3", pace_tat_key(t.name), pace_conn_key(t.name),
           pace_backoff_key(t.name), format_pace_number(t.rate), format_pace_number(t.burst),
           std::to_string(t.want), t.want_slot ? "1" : "0", std::to_string(t.slot_limit),
           std::to_string(t.lease_ms), t.member}};
}

Result<PaceGrant> decode_take(const Reply& r) {
  if (r.is_error()) return make_error(ErrorKind::Invalid, "Redis: " + r.text.substr(0, 200));
  if (r.type != ReplyType::Array || r.elements.size() != 6) return bad("take: not six elements");
  const auto& e = r.elements;
  auto tokens = integer_in(e[0], -1, 1'000'000);
  auto wait = integer_in(e[1], 0, kMaxMs);
  auto slot = integer_in(e[2], 0, 1);
  auto full = integer_in(e[3], 0, 1);
  auto rate = number(e[4]);
  auto step = integer_in(e[5], 0, kMaxMs);
  if (!tokens || !wait || !slot || !full || !rate || *rate < 0 || *rate > kMaxRate || !step)
    return bad("take: a field out of range");
  return PaceGrant{*tokens, *wait, *slot == 1, *full == 1, *rate, *step};
}

std::vector<Argv> encode_halve(const PaceHalve& h) {
  return {{"EVAL", script(kHalveLua), "1", pace_backoff_key(h.name), std::to_string(h.started_ms),
           format_pace_number(h.base), std::to_string(h.period_ms), std::to_string(h.min_gap_ms)}};
}

Result<PaceHalved> decode_halve(const Reply& r) {
  if (r.is_error()) return make_error(ErrorKind::Invalid, "Redis: " + r.text.substr(0, 200));
  if (r.type != ReplyType::Array || r.elements.size() != 3) return bad("halve: not three elements");
  auto changed = integer_in(r.elements[0], 0, 1);
  auto rate = number(r.elements[1]);
  auto step = integer_in(r.elements[2], 0, kMaxMs);
  if (!changed || !rate || *rate < 0 || *rate > kMaxRate || !step) return bad("halve: a field out of range");
  return PaceHalved{*changed == 1, *rate, *step};
}

std::vector<Argv> encode_merge(const std::string& name, double rate, double base, std::int64_t period_ms) {
  return {{"EVAL", script(kMergeLua), "1", pace_backoff_key(name), format_pace_number(rate),
           format_pace_number(base), std::to_string(period_ms)}};
}

std::vector<Argv> encode_leases(const std::vector<std::pair<std::string, std::string>>& leases,
                                std::int64_t lease_ms) {
  Argv argv{"EVAL", script(kLeaseLua), std::to_string(leases.size())};
  for (const auto& [name, member] : leases) argv.push_back(pace_conn_key(name));
  argv.push_back(std::to_string(lease_ms));
  for (const auto& [name, member] : leases) argv.push_back(member);
  return {argv};
}

std::vector<Argv> encode_release(const std::string& name, const std::string& member) {
  return {{"ZREM", pace_conn_key(name), member}};
}

}  // namespace ferry::cluster
