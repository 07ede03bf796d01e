#include "auth/policy.h"

#include <gtest/gtest.h>

#include "core/test_dir.h"

namespace thunder {
namespace {

const Principal kAdmin{1, Role::kAdmin, ""};
const Principal kFactory7{2, Role::kFactory, "7"};
const Principal kHost3{3, Role::kHost, "3"};
const Principal kConsumer{4, Role::kConsumer, "buyer-1"};
const Principal kTrainer{5, Role::kTrainer, ""};

bool Can(const Principal& p, Action a, ResourceKind k, Ownership o = {}) {
  return Authorize(p, a, k, o).ok();
}

TEST(PolicyTest, AdminMayDoEverything) {
  for (auto kind :
       {ResourceKind::kBelt, ResourceKind::kBase, ResourceKind::kFactory, ResourceKind::kHost,
        ResourceKind::kProduct, ResourceKind::kSku, ResourceKind::kPlatform}) {
    for (auto action : {Action::kRead, Action::kCreate, Action::kUpdate, Action::kAdminister}) {
      EXPECT_TRUE(Can(kAdmin, action, kind));
    }
  }
}

TEST(PolicyTest, EveryRoleReadsTheCatalogButNotThePlatform) {
  for (const Principal* p : {&kFactory7, &kHost3, &kConsumer, &kTrainer}) {
    EXPECT_TRUE(Can(*p, Action::kRead, ResourceKind::kProduct, Ownership::Factory(99)));
    EXPECT_TRUE(Can(*p, Action::kRead, ResourceKind::kBelt));
    EXPECT_FALSE(Can(*p, Action::kAdminister, ResourceKind::kPlatform));
  }
}

TEST(PolicyTest, FactoryWritesOnlyItsOwnProductsAndSkus) {
  EXPECT_TRUE(Can(kFactory7, Action::kCreate, ResourceKind::kProduct, Ownership::Factory(7)));
  EXPECT_TRUE(Can(kFactory7, Action::kUpdate, ResourceKind::kSku, Ownership::Factory(7)));
  EXPECT_TRUE(Can(kFactory7, Action::kUpdate, ResourceKind::kFactory, Ownership::Factory(7)));
  EXPECT_FALSE(Can(kFactory7, Action::kCreate, ResourceKind::kProduct, Ownership::Factory(8)));
  EXPECT_FALSE(Can(kFactory7, Action::kUpdate, ResourceKind::kFactory, Ownership::Factory(8)));
  EXPECT_FALSE(Can(kFactory7, Action::kCreate, ResourceKind::kFactory, Ownership::Factory(7)));
  EXPECT_FALSE(Can(kFactory7, Action::kCreate, ResourceKind::kProduct, {}));
  EXPECT_FALSE(Can(kFactory7, Action::kCreate, ResourceKind::kBelt));
}

TEST(PolicyTest, HostWritesOnlyItsOwnBaseAndHosts) {
  EXPECT_TRUE(Can(kHost3, Action::kUpdate, ResourceKind::kBase, Ownership::Base(3)));
  EXPECT_TRUE(Can(kHost3, Action::kCreate, ResourceKind::kHost, Ownership::Base(3)));
  EXPECT_FALSE(Can(kHost3, Action::kCreate, ResourceKind::kHost, Ownership::Base(4)));
  EXPECT_FALSE(Can(kHost3, Action::kCreate, ResourceKind::kBase, Ownership::Base(3)));
  EXPECT_FALSE(Can(kHost3, Action::kCreate, ResourceKind::kProduct, Ownership::Factory(3)));
}

TEST(PolicyTest, ConsumersAndTrainersWriteNoCatalog) {
  for (const Principal* p : {&kConsumer, &kTrainer}) {
    EXPECT_FALSE(Can(*p, Action::kCreate, ResourceKind::kProduct, Ownership::Factory(1)));
    EXPECT_FALSE(Can(*p, Action::kUpdate, ResourceKind::kHost, Ownership::Base(1)));
  }
}

TEST(PolicyTest, OrdersBelongToTheirBuyerAlone) {
  const Principal other{6, Role::kConsumer, "buyer-2"};
  for (auto action : {Action::kRead, Action::kCreate, Action::kUpdate}) {
    EXPECT_TRUE(Can(kConsumer, action, ResourceKind::kOrder, Ownership::Buyer("buyer-1")));
    EXPECT_FALSE(Can(other, action, ResourceKind::kOrder, Ownership::Buyer("buyer-1")));
    EXPECT_FALSE(Can(kFactory7, action, ResourceKind::kOrder, Ownership::Buyer("7")));
    EXPECT_FALSE(Can(kHost3, action, ResourceKind::kOrder, Ownership::Buyer("3")));
    EXPECT_TRUE(Can(kAdmin, action, ResourceKind::kOrder, Ownership::Buyer("buyer-1")));
  }
}

TEST(PolicyTest, HostsRunDropsOfTheirOwnBeltEveryoneSeesThem) {
  const CallerScope in_belt_2{2};
  auto host_can_create = [](Ownership drop, CallerScope caller) {
    return Authorize(kHost3, Action::kCreate, ResourceKind::kDrop, drop, caller).ok();
  };
  EXPECT_TRUE(host_can_create(Ownership::Belt(2), in_belt_2));
  EXPECT_FALSE(host_can_create(Ownership::Belt(5), in_belt_2));
  // An unknown belt on either side is no belt in common.
  EXPECT_FALSE(host_can_create({}, in_belt_2));
  EXPECT_FALSE(host_can_create(Ownership::Belt(2), {}));
  EXPECT_FALSE(host_can_create({}, {}));
  EXPECT_TRUE(Can(kAdmin, Action::kCreate, ResourceKind::kDrop, Ownership::Belt(5)));
  for (const Principal* p : {&kFactory7, &kConsumer, &kTrainer}) {
    EXPECT_FALSE(
        Authorize(*p, Action::kCreate, ResourceKind::kDrop, Ownership::Belt(2), in_belt_2).ok());
    EXPECT_TRUE(Can(*p, Action::kRead, ResourceKind::kDrop));
  }
  EXPECT_EQ(Authorize(kHost3, Action::kCreate, ResourceKind::kDrop, Ownership::Belt(5), in_belt_2)
                .message(),
            "a host token scoped to 3 may not create drops of belt 5: its base is in belt 2");
}

TEST(PolicyTest, RoleCheckRefusesEarlyOnlyThoseNoOwnerWouldAllow) {
  EXPECT_TRUE(AuthorizeRole(kHost3, Action::kCreate, ResourceKind::kDrop).ok());
  EXPECT_TRUE(AuthorizeRole(kAdmin, Action::kCreate, ResourceKind::kDrop).ok());
  EXPECT_TRUE(AuthorizeRole(kConsumer, Action::kCreate, ResourceKind::kOrder).ok());
  EXPECT_TRUE(AuthorizeRole(kFactory7, Action::kCreate, ResourceKind::kSku).ok());
  for (const Principal* p : {&kFactory7, &kConsumer, &kTrainer}) {
    EXPECT_EQ(AuthorizeRole(*p, Action::kCreate, ResourceKind::kDrop).http_status(), 403);
  }
  for (const Principal* p : {&kFactory7, &kHost3, &kTrainer}) {
    EXPECT_EQ(AuthorizeRole(*p, Action::kCreate, ResourceKind::kOrder).http_status(), 403);
  }
  EXPECT_FALSE(AuthorizeRole(kHost3, Action::kCreate, ResourceKind::kBelt).ok());
}

TEST(PolicyTest, DenialSaysWhoAndWhat) {
  Status s = Authorize(kFactory7, Action::kUpdate, ResourceKind::kProduct, Ownership::Factory(8));
  EXPECT_EQ(s.http_status(), 403);
  EXPECT_EQ(s.message(), "a factory token scoped to 7 may not change products of factory 8");
}

TEST(PolicyTest, CallerScopeIsTheBeltOfAHostsBase) {
  TestDir dir("policy");
  auto store = OpenStore(dir.path() + "/store.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)
                  ->Exec("INSERT INTO belts (id, name, province, city, specialty, created_at, "
                         "updated_at) VALUES (4, 'Datang', 'Zhejiang', 'Zhuji', 'socks', '', '')")
                  .ok());
  ASSERT_TRUE((*store)
                  ->Exec("INSERT INTO bases (id, name, belt_id, city, created_at, updated_at) "
                         "VALUES (3, 'Datang Live', 4, 'Zhuji', '', '')")
                  .ok());
  auto belt_of = [&](const Principal& who) {
    auto scope = ReadCallerScope(**store, who);
    EXPECT_TRUE(scope.ok()) << scope.status().ToString();
    return scope.ok() ? scope->belt_id : std::nullopt;
  };
  EXPECT_EQ(belt_of(kHost3), 4);
  EXPECT_EQ(belt_of(Principal{7, Role::kHost, "99"}), std::nullopt);     // no such base
  EXPECT_EQ(belt_of(Principal{8, Role::kHost, "three"}), std::nullopt);  // not an id
  EXPECT_EQ(belt_of(kFactory7), std::nullopt);
  EXPECT_EQ(belt_of(kAdmin), std::nullopt);
}

}  // namespace
}  // namespace thunder
