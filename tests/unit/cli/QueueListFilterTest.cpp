// QueueListFilter: `ferry queue list --domain/--sender/--state` matching, table-driven; and the
// streamed listing (header, entries, footer) is byte for byte the listing of the whole vector.
#include "mta/cli/QueueListFilter.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "mta/cli/QueueFormat.hpp"

namespace ferry::cli {
namespace {

queue::RecipientRecord rcpt(std::uint32_t index, RecipientState state, std::uint32_t attempts = 0,
                            bool leased = false) {
  queue::RecipientRecord r;
  r.index = index;
  r.state = state;
  r.attempts = attempts;
  r.leased = leased;
  return r;
}

// <Alice@Example.com> to bob@example.org (deferred once) and carol@Dead.Example (held).
queue::MessageRecord message() {
  queue::MessageRecord m;
  m.id = QueueId{42};
  m.envelope.reverse_path = "Alice@Example.com";
  m.envelope.size = 1500;
  m.envelope.recipients = {{"bob@example.org", "", 0}, {"carol@Dead.Example", "", 0}};
  m.recipients = {rcpt(0, RecipientState::Pending, 1), rcpt(1, RecipientState::Held)};
  return m;
}

TEST(QueueListFilter, Table) {
  struct Case {
    const char* name;
    QueueListFilter filter;
    bool matches;
  };
  auto with = [](auto set) {
    QueueListFilter f;
    set(f);
    return f;
  };
  const std::vector<Case> cases = {
      {"no filter", {}, true},
      {"domain of a recipient", with([](auto& f) { f.domain = "example.org"; }), true},
      {"domain case-insensitive", with([](auto& f) { f.domain = "dead.example"; }), true},
      {"domain of no recipient", with([](auto& f) { f.domain = "example.com"; }), false},
      {"domain is not a suffix match", with([](auto& f) { f.domain = "example"; }), false},
      {"sender exact, any case", with([](auto& f) { f.sender = "alice@example.COM"; }), true},
      {"sender other", with([](auto& f) { f.sender = "bob@example.com"; }), false},
      {"sender domain", with([](auto& f) { f.sender = "@example.com"; }), true},
      {"sender domain other", with([](auto& f) { f.sender = "@example.org"; }), false},
      {"null sender wanted", with([](auto& f) { f.sender = "<>"; }), false},
      {"state pending", with([](auto& f) { f.state = ListState::Pending; }), true},
      {"state deferred", with([](auto& f) { f.state = ListState::Deferred; }), true},
      {"state held", with([](auto& f) { f.state = ListState::Held; }), true},
      {"state active", with([](auto& f) { f.state = ListState::Active; }), false},
      {"state delivered", with([](auto& f) { f.state = ListState::Delivered; }), false},
      {"all filters must pass", with([](auto& f) {
         f.domain = "example.org";
         f.state = ListState::Active;
       }),
       false},
  };
  for (const auto& c : cases) EXPECT_EQ(c.filter.matches(message()), c.matches) << c.name;
}

TEST(QueueListFilter, StatesOfOneRecipient) {
  struct Case {
    queue::RecipientRecord r;
    std::vector<ListState> in;
  };
  const std::vector<Case> cases = {
      {rcpt(0, RecipientState::Pending), {ListState::Pending}},
      {rcpt(0, RecipientState::Pending, 3), {ListState::Pending, ListState::Deferred}},
      {rcpt(0, RecipientState::Pending, 1, true), {ListState::Active}},
      {rcpt(0, RecipientState::Held, 2), {ListState::Held}},
      {rcpt(0, RecipientState::Delivered, 1), {ListState::Delivered}},
      {rcpt(0, RecipientState::Failed, 1), {ListState::Failed}},
  };
  const ListState all[] = {ListState::Pending, ListState::Deferred,  ListState::Active,
                           ListState::Held,    ListState::Delivered, ListState::Failed};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    queue::MessageRecord m = message();
    m.recipients = {cases[i].r};
    for (ListState s : all) {
      QueueListFilter f;
      f.state = s;
      const bool want = std::find(cases[i].in.begin(), cases[i].in.end(), s) != cases[i].in.end();
      EXPECT_EQ(f.matches(m), want) << "case " << i << " state " << static_cast<int>(s);
    }
  }
}

TEST(QueueListFilter, NullSender) {
  queue::MessageRecord m = message();
  m.envelope.reverse_path.clear();
  QueueListFilter f;
  f.sender = "<>";
  EXPECT_TRUE(f.matches(m));
  f.sender = "@example.com";
  EXPECT_FALSE(f.matches(m));
}

TEST(QueueListFilter, StateNames) {
  EXPECT_EQ(parse_list_state("deferred"), ListState::Deferred);
  EXPECT_EQ(parse_list_state("HELD"), ListState::Held);
  EXPECT_EQ(parse_list_state("active"), ListState::Active);
  EXPECT_FALSE(parse_list_state("queued"));
  EXPECT_FALSE(parse_list_state(""));
}

TEST(QueueListFilter, StreamedListingIsTheWholeListing) {
  queue::MessageRecord a = message(), b = message();
  b.id = QueueId{43};
  b.envelope.size = 10;
  const std::vector<queue::MessageRecord> both = {a, b};
  EXPECT_EQ(format_list_header() + format_list_entry_text(a) + format_list_entry_text(b) +
                format_list_footer(a.envelope.size + b.envelope.size, 2),
            format_list_text(both));
  EXPECT_EQ("[" + format_list_entry_json(a) + "," + format_list_entry_json(b) + "]\n",
            format_list_json(both));
}

}  // namespace
}  // namespace ferry::cli
