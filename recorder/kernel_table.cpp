#include "recorder/hash.h"
#include "recorder/kernel.h"

namespace rrto {

uint64_t kernel_key(uint64_t module_hash, std::string_view name) {
  return hash_bytes(name.data(), name.size(), hash_mix(module_hash, kHashSeed));
}

namespace {

const KernelDef* find_identity(const std::unordered_multimap<uint64_t, const KernelDef*>& by_key, uint64_t key,
                               uint64_t module_hash, std::string_view name) {
  auto [it, end] = by_key.equal_range(key);
  for (; it != end; ++it) {
    if (it->second->module_hash == module_hash && it->second->name == name) return it->second;
  }
  return nullptr;
}

}  // namespace

const KernelDef* KernelTable::add_locked(KernelId id, uint64_t module_hash, std::string_view name,
                                         std::span<const KernelParam> params, uint64_t key) {
  auto def = std::make_unique<KernelDef>();
  def->id = id;
  def->module_hash = module_hash;
  def->name = std::string(name);
  def->key = key;
  def->params.assign(params.begin(), params.end());
  const KernelDef* out = def.get();
  by_id_.emplace(id, std::move(def));
  by_key_.emplace(key, out);
  if (id >= next_id_) next_id_ = id + 1;
  return out;
}

const KernelDef* KernelTable::intern(uint64_t module_hash, std::string_view name,
                                     std::span<const KernelParam> params) {
  const uint64_t key = kernel_key(module_hash, name);
  std::lock_guard lock(mu_);
  if (const KernelDef* known = find_identity(by_key_, key, module_hash, name)) return known;
  if (next_id_ == kNoKernel) return nullptr;
  return add_locked(next_id_, module_hash, name, params, key);
}

const KernelDef* KernelTable::define(KernelId id, uint64_t module_hash, std::string_view name,
                                     std::span<const KernelParam> params) {
  if (id == kNoKernel) return nullptr;
  const uint64_t key = kernel_key(module_hash, name);
  std::lock_guard lock(mu_);
  if (by_id_.count(id)) return nullptr;
  if (find_identity(by_key_, key, module_hash, name)) return nullptr;
  return add_locked(id, module_hash, name, params, key);
}

const KernelDef* KernelTable::find(KernelId id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

size_t KernelTable::size() const {
  std::lock_guard lock(mu_);
  return by_key_.size();
}

}  // namespace rrto
