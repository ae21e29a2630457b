;; defmetric labels: unknown decoders, fields the key lacks, sizes a decoder cannot read,
;; bad tables and regular expressions.
(defstruct flow (addr u32) (port u16) (proto u8) (pad u8) (comm (array u8 16)))
(defstruct stats (packets u64) (bytes u64))
(defmap flows :type :hash :key-type flow :value-type stats :max-entries 1024)
(defmap by-syscall :type :hash :key-size 4 :value-size 8 :max-entries 512)
(defmetric flow-packets :counter :map flows :value packets
  :labels ((addr :ipv6) (port :integr) (proto :integer :field protocol) (comm :comm) (dport :integer)))
(defmetric flow-bytes :counter :map flows
  :labels ((addr :ipv4 :allow (1 2)) (port (:table (1 "one") (two "two")))))
(defmetric calls :counter :map by-syscall :value count
  :labels ((syscall :syscall :match "read(") (name :table)))
(defmetric calls-by-cpu :counter :map by-syscall :per-cpu :each
  :labels ((cpu :integer)))
(defprog count (:type :tracepoint :section "tracepoint/raw_syscalls/sys_enter")
  (incf (getmap by-syscall 0))
  0)
