#include "storage/sqlite_checkpointer.h"

namespace plaint::storage {

background_checkpointer::background_checkpointer(std::unique_ptr<sqlite_store> store, on_error_fn on_error,
                                                 std::chrono::milliseconds every)
    : store_(std::move(store)), on_error_(std::move(on_error)), thread_([this, every] {
        if (auto st = store_->checkpoint(); !st && on_error_) on_error_(st.error());
        return every;
      }) {}

background_checkpointer::~background_checkpointer() {
  thread_.stop();
  (void)store_->checkpoint();  // leave a short log behind
}

}  // namespace plaint::storage
