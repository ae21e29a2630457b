;; Drops IPv4 packets whose source lies in a blocked prefix (longest-prefix match), counting
;; the drops per matching rule (the trie's value is the rule number).
(defstruct ipv4-prefix (length u32) (address u32))
(defmap blocked :type :lpm-trie :key-type ipv4-prefix :value-size 4 :max-entries 64
  :map-flags BPF_F_NO_PREALLOC)
(defmap rule-hits :type :array :key-size 4 :value-size 8 :max-entries 16)
(defprog block-prefixes (:type :xdp :section "xdp" :license "GPL")
  (with-ipv4 (data data-end ip)
    (let ((key (make-ipv4-prefix)))
      (setf (ipv4-prefix-length key) 32
            (ipv4-prefix-address key) (ipv4-src-addr ip))
      (let ((rule (map-lookup-ptr blocked key)))
        (when rule
          (incf (getmap rule-hits (load u32 rule 0)))
          (return XDP_DROP)))))
  XDP_PASS)
