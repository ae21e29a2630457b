;; load-only
(defmap established :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog sockops (:type :sock-ops)
  (when (= (ctx op) BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
    (incf (getmap established 0)))
  1)
