#include "auth/policy.h"

#include <gtest/gtest.h>

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

TEST(PolicyTest, HostsRunDropsEveryoneSeesThem) {
  EXPECT_TRUE(Can(kHost3, Action::kCreate, ResourceKind::kDrop));
  EXPECT_FALSE(Can(kFactory7, Action::kCreate, ResourceKind::kDrop));
  EXPECT_FALSE(Can(kConsumer, Action::kCreate, ResourceKind::kDrop));
  EXPECT_TRUE(Can(kConsumer, Action::kRead, ResourceKind::kDrop));
}

TEST(PolicyTest, DenialSaysWhoAndWhat) {
  Status s = Authorize(kFactory7, Action::kUpdate, ResourceKind::kProduct, Ownership::Factory(8));
  EXPECT_EQ(s.http_status(), 403);
  EXPECT_EQ(s.message(), "a factory token scoped to 7 may not change products of factory 8");
}

}  // namespace
}  // namespace thunder
