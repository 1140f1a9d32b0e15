// ChunkQueue: a bounded single-producer/single-consumer queue of byte chunks between a layer's
// download (libcurl's push-style callbacks) and its unpacker (libarchive's pull-style reads).
// Bounded so that a fast registry cannot make memory grow with the layer: the producer blocks
// while `max_bytes` are queued. Either side can end the stream with a status.
// Thread-safe; neither copyable nor movable.
#ifndef CDH_IMAGE_CHUNK_QUEUE_H_
#define CDH_IMAGE_CHUNK_QUEUE_H_

#include <deque>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace cdh::image {

class ChunkQueue {
 public:
  explicit ChunkQueue(size_t max_bytes) : max_bytes_(max_bytes) {}
  ChunkQueue(const ChunkQueue&) = delete;
  ChunkQueue& operator=(const ChunkQueue&) = delete;

  // Blocks while the queue is full. Returns the consumer's abort status (not OK) when the
  // consumer gave up; the producer should then stop.
  absl::Status Push(std::string chunk) {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !abort_.ok() || queued_bytes_ == 0 || queued_bytes_ + chunk_size_ <= max_bytes_;
    };
    chunk_size_ = chunk.size();
    mu_.Await(absl::Condition(&room));
    if (!abort_.ok()) return abort_;
    queued_bytes_ += chunk.size();
    chunks_.push_back(std::move(chunk));
    return absl::OkStatus();
  }

  // Ends the stream: `status` OK = end of data; otherwise the producer's error.
  void Close(absl::Status status) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    close_status_ = std::move(status);
  }

  // The consumer gives up; pending and future Push calls return `status`.
  void Abort(absl::Status status) {
    absl::MutexLock lock(&mu_);
    abort_ = status.ok() ? absl::CancelledError("consumer stopped") : std::move(status);
    chunks_.clear();
    queued_bytes_ = 0;
  }

  // The next chunk; nullopt at the end of a stream closed with OK; the close status otherwise.
  absl::StatusOr<std::optional<std::string>> Pop() {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !chunks_.empty() || closed_; };
    mu_.Await(absl::Condition(&ready));
    if (!chunks_.empty()) {
      std::string c = std::move(chunks_.front());
      chunks_.pop_front();
      queued_bytes_ -= c.size();
      return std::optional<std::string>(std::move(c));
    }
    if (!close_status_.ok()) return close_status_;
    return std::optional<std::string>();
  }

 private:
  const size_t max_bytes_;
  absl::Mutex mu_;
  std::deque<std::string> chunks_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t chunk_size_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status close_status_ ABSL_GUARDED_BY(mu_);
  absl::Status abort_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_CHUNK_QUEUE_H_
