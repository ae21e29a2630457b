;; load-only
;; sk_lookup programs read struct bpf_sk_lookup
(defprog lookup (:type :sk-lookup)
  (if (and (= (ctx protocol) IPPROTO_TCP) (= (ctx local-port) 8080))
      SK_DROP
      SK_PASS))
