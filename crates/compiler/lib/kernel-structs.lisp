;;;; `import-kernel-struct`: accessor macros for a kernel struct's fields, from the kernel's BTF;
;;;; `kernel-load`, the read through a kernel pointer they expand to.
;;;;
;;;; The compiler does no I/O, so the layout comes from a host function the embedding program
;;;; defines: (%kernel-struct "C_NAME") returning (SIZE FIELDS STRUCT-TYPE), each field
;;;; ("c_name" OFFSET ACCESS TYPE BTF-TYPE) with ACCESS :value (TYPE the load type), :address
;;;; (TYPE the embedded struct's C name or NIL) or :bitfield. The CLI and sessions read
;;;; /sys/kernel/btf/vmlinux. Everything else is here.
;;;;
;;;; Offsets are not baked in: accessors take them from (kernel-field-offset STRUCT-TYPE
;;;; "c_name" OFFSET BTF-TYPE), a constant that carries a CO-RE relocation, so the loader
;;;; rewrites it for the kernel the program runs on.

(defmacro kernel-load (type ptr offset)
  "The TYPE (u8...u64, i8...i64) at byte OFFSET of the kernel pointer PTR, read into a stack
buffer with `probe-read-kernel` (0 when the read fails)."
  (let ((size (%scalar-size type))
        (buffer (%fresh "buffer")))
    (unless size
      (error "kernel-load: expected a scalar type (u8...u64, i8...i64), found ~s" type))
    `(let ((,buffer (struct-alloc ,size)))
       (probe-read-kernel ,buffer ,size (+ ,ptr ,offset))
       (load ,type ,buffer 0))))

(defmacro typed-ptr (struct expr)
  "EXPR, marked while expanding as a pointer to the kernel struct STRUCT (no run-time cost):
accessors of another struct given it directly report the mix-up."
  (declare (ignore struct))
  expr)

(defun %pointer-tag (ptr)
  "The (typed-ptr STRUCT EXPR) that PTR expands to, or NIL: PTR's macros are expanded only to
look for the mark, never in place of PTR."
  (loop
    (when (and (consp ptr) (eq (first ptr) 'typed-ptr))
      (return ptr))
    (multiple-value-bind (expansion expanded-p)
        (handler-case (macroexpand-1 ptr) (error () (values ptr nil)))
      (unless expanded-p
        (return nil))
      (setq ptr expansion))))

(defun %check-struct-pointer (struct ptr accessor)
  "PTR, or the expression it marks as a pointer; fails when the mark names another struct."
  (let ((tag (%pointer-tag ptr)))
    (cond ((null tag) ptr)
          ((eq (second tag) struct) (third tag))
          (t (error "~(~a~) takes a pointer to ~(~a~), not to ~(~a~); write (as-~(~a~) PTR) to read it as one anyway"
                    accessor struct (second tag) struct)))))

(defun %kernel-field-accessor (struct struct-type field)
  "The `defmacro` of STRUCT's accessor for FIELD, or NIL for a bitfield."
  (destructuring-bind (c-name offset access type btf-type) field
    (let ((accessor (%symbolicate struct "-" (%hyphens c-name)))
          (relocated `(kernel-field-offset ,struct-type ,c-name ,offset ,btf-type)))
      (case access
        (:value
         `(defmacro ,accessor (ptr)
            ,(format nil "The kernel's `~a.~a` (~(~a~) at byte ~d here; relocated for the running kernel), read with probe-read-kernel."
                     (%underscores (symbol-name struct)) c-name type offset)
            (list 'kernel-load ',type (%check-struct-pointer ',struct ptr ',accessor) ',relocated)))
        (:address
         (let ((address `(list '+ (%check-struct-pointer ',struct ptr ',accessor) ',relocated)))
           `(defmacro ,accessor (ptr)
              ,(format nil "The address of the kernel's `~a.~a` (byte ~d here; relocated for the running kernel)."
                       (%underscores (symbol-name struct)) c-name offset)
              ,(if type
                   `(list 'typed-ptr ',(intern (%hyphens type)) ,address)
                   address))))
        (t nil)))))

(defun %select-kernel-fields (fields wanted struct)
  "The FIELDS named in WANTED (symbols, `-` or `_`), all but bitfields when WANTED is empty."
  (if (null wanted)
      (remove :bitfield fields :key #'third)
      (mapcar (lambda (want)
                (let* ((name (%underscores (string-downcase (symbol-name want))))
                       (field (find name fields :key #'first :test #'string=)))
                  (cond ((null field)
                         (error "import-kernel-struct ~a: no field ~a; the fields are ~{~a~^ ~}"
                                struct name (mapcar #'first fields)))
                        ((eq (third field) :bitfield)
                         (error "import-kernel-struct ~a: ~a is a bitfield, which a byte load cannot read"
                                struct name))
                        (t field))))
              wanted)))

(defmacro import-kernel-struct (name &rest fields)
  "(import-kernel-struct STRUCT [FIELD...])
Defines, from the kernel's BTF, (STRUCT-FIELD ptr) for each FIELD named (every field when none
is; members of anonymous structs and unions count as the struct's own): integers, enums and
pointers (as u64) are read through the kernel pointer PTR with `kernel-load`; embedded structs,
unions and arrays give their address. Also (as-STRUCT ptr), which marks PTR as a pointer to
STRUCT, and +STRUCT-SIZE+. Hyphens in names stand for the kernel's underscores."
  (unless (fboundp '%kernel-struct)
    (error "import-kernel-struct ~(~a~): this compiler has no kernel BTF reader (the host function %kernel-struct)"
           name))
  (let* ((c-name (%underscores (string-downcase (symbol-name name))))
         (struct (intern (%hyphens c-name)))
         (layout (funcall '%kernel-struct c-name))
         (selected (%select-kernel-fields (second layout) fields c-name)))
    `(progn
       (defmacro ,(%symbolicate "as-" struct) (ptr)
         ,(format nil "PTR, as a pointer to the kernel's struct ~a." c-name)
         (list 'typed-ptr ',struct ptr))
       ,@(remove nil (mapcar (lambda (field) (%kernel-field-accessor struct (third layout) field))
                             selected))
       (defconstant ,(%symbolicate "+" struct "-size+") ,(first layout)))))
