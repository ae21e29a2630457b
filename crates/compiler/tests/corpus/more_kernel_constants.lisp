;; test: prog=p expect=62
;; constants beyond the shared table: ETH_HLEN, IPPROTO_GRE, BPF_F_RECOMPUTE_CSUM
(defprog p (:type :xdp)
  (+ ETH_HLEN ipproto-gre +bpf-f-recompute-csum+))
