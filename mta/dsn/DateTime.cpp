// DateTime: RFC 5322 §3.3 date-time text. Civil-from-days after H. Hinnant's public-domain
// algorithm, so no libc time functions (and no TZ database) are touched.
#include "mta/dsn/DateTime.hpp"

#include <cstdint>
#include <cstdio>

namespace ferry::dsn {
namespace {

struct Civil {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 → proleptic Gregorian date.
Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {m <= 2 ? y + 1 : y, m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::string rfc5322_date(TimeMs time_ms, int utc_offset_minutes) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (utc_offset_minutes > 99 * 60 + 59) utc_offset_minutes = 99 * 60 + 59;
  if (utc_offset_minutes < -(99 * 60 + 59)) utc_offset_minutes = -(99 * 60 + 59);

  const std::int64_t local_s = floor_div(time_ms, 1000) + std::int64_t{utc_offset_minutes} * 60;
  const std::int64_t days = floor_div(local_s, 86400);
  const std::int64_t secs = local_s - days * 86400;
  const Civil c = civil_from_days(days);
  const auto weekday = static_cast<unsigned>(((days % 7) + 7) % 7);  // 1970-01-01 was a Thursday

  const char sign = utc_offset_minutes < 0 ? '-' : '+';
  const int off = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02d:%02d:%02d %c%02d%02d", kDays[weekday], c.day,
                kMonths[c.month - 1], static_cast<long long>(c.year), static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60), sign, off / 60, off % 60);
  return buf;
}

}  // namespace ferry::dsn
