#include "server/hub/shard_inbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include "boost/asio/post.hpp"
#include "boost/system/system_error.hpp"

namespace sigd::hub {

ShardInbox::ShardInbox(boost::asio::io_context& context) : context_(context), wake_(context) {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    throw boost::system::system_error(errno, boost::system::system_category(), "eventfd");
  }
  wake_.assign(fd);
}

void ShardInbox::Start() { Wait(); }

void ShardInbox::Wait() {
  wake_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                   [this](const boost::system::error_code& ec) {
                     if (ec) return;  // cancelled: the inbox is going away
                     // Reset the counter, then wait again (Asio re-polls the
                     // descriptor when a wait starts), then take the queue: a
                     // wake-up written at any point in between is not lost.
                     uint64_t count = 0;
                     [[maybe_unused]] const ssize_t n =
                         ::read(wake_.native_handle(), &count, sizeof count);
                     Wait();
                     {
                       util::MutexLock lock(&mu_);
                       running_.swap(queue_);
                       signalled_ = false;
                     }
                     for (Task& task : running_) task();
                     running_.clear();
                   });
}

void ShardInbox::Post(Task task) {
  if (context_.get_executor().running_in_this_thread()) {
    boost::asio::post(context_, std::move(task));
    return;
  }
  bool wake = false;
  {
    util::MutexLock lock(&mu_);
    queue_.push_back(std::move(task));
    wake = !signalled_;
    signalled_ = true;
  }
  if (!wake) return;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_.native_handle(), &one, sizeof one);
}

}  // namespace sigd::hub
