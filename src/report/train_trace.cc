#include "report/train_trace.h"

#include "base/errors.h"

namespace gf {

TraceWriter::TraceWriter(OutputTarget target) : file_(std::move(target), "--trace") {
  if (file_.regular() && file_.size() > 0) file_.truncate(0);
}

void TraceWriter::write_line(std::string_view line) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (!failure_.empty()) throw UsageError(failure_);
  try {
    file_.append(line);
  } catch (const UsageError& e) {
    failure_ = e.what();
    throw;
  }
}

void TraceWriter::close() {
  const std::lock_guard<std::mutex> lock(mutex_);
  file_.close();
}

}  // namespace gf
