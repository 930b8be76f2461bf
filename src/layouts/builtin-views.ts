/**
 * The built-in friendly views as data: view name, the CASES table it reads, and the CASES column
 * behind each application field. Kept with the layouts so relationships.json can be checked
 * against the names they take (schema/views.ts builds the views themselves). Field names are the
 * seed's camelCase, exactly what ETL_VIEW_NAMING=camel gives; `snake` derives its names from
 * them (view-naming.ts).
 */

/** Built-in views: CASES column (upper case) per application field, in view column order. */
export const BUILTIN_VIEWS: Readonly<Record<string, { table: string; fields: Readonly<Record<string, string>> }>> = {
  students: {
    table: 'ST',
    fields: {
      studentId: 'STKEY',
      surname: 'SURNAME',
      givenNames: 'FIRST_NAME',
      secondName: 'SECOND_NAME',
      preferredName: 'PREF_NAME',
      dob: 'BIRTHDATE',
      sex: 'GENDER',
      homeGroup: 'HOME_GROUP',
      house: 'HOUSE',
      yearLevel: 'SCHOOL_YEAR',
      campus: 'CAMPUS',
      familyId: 'FAMILY',
      email: 'E_MAIL',
      phone: 'MOBILE',
      status: 'STATUS',
      entryDate: 'ENTRY',
      exitDate: 'EXIT_DATE',
      tag: 'TAG',
      birthCountry: 'BIRTH_COUNTRY',
      homeLanguage: 'HOME_LANG',
    },
  },
  staff: {
    table: 'SF',
    fields: {
      staffId: 'SFKEY',
      title: 'TITLE',
      surname: 'SURNAME',
      givenNames: 'FIRST_NAME',
      preferredName: 'PREF_NAME',
      sex: 'GENDER',
      email: 'E_MAIL',
      phone: 'MOBILE',
      workPhone: 'WORK_PHONE',
      campus: 'CAMPUS',
      house: 'HOUSE',
      room: 'ROOM',
      faculty: 'FACULTY01',
      staffType: 'STAFF_TYPE',
      status: 'STAFF_STATUS',
      startDate: 'START',
      finishDate: 'FINISH',
      payrollNumber: 'PAYROLL_REC_NO',
      homeAddressId: 'HOMEKEY',
      mailAddressId: 'MAILKEY',
    },
  },
  families: {
    table: 'DF',
    fields: {
      familyId: 'DFKEY',
      parentAGivenName: 'NAME_A',
      parentASurname: 'SURNAME_A',
      parentATitle: 'TITLE_A',
      parentAEmail: 'E_MAIL_A',
      parentAMobile: 'MOBILE_A',
      parentBGivenName: 'NAME_B',
      parentBSurname: 'SURNAME_B',
      parentBTitle: 'TITLE_B',
      parentBEmail: 'E_MAIL_B',
      parentBMobile: 'MOBILE_B',
      homeTitle: 'HOMETITLE',
      homeAddressId: 'HOMEKEY',
      mailTitle: 'MAILTITLE',
      mailAddressId: 'MAILKEY',
      billingAddressId: 'BILLINGKEY',
    },
  },
  addresses: {
    table: 'UM',
    fields: {
      addressId: 'UMKEY',
      line1: 'ADDRESS01',
      line2: 'ADDRESS02',
      suburb: 'ADDRESS03',
      state: 'STATE',
      postcode: 'POSTCODE',
      phone: 'TELEPHONE',
      mobile: 'MOBILE',
      country: 'COUNTRY',
    },
  },
  home_groups: {
    table: 'KGC',
    fields: {
      homeGroup: 'KGCKEY',
      description: 'DESCRIPTION',
      campus: 'CAMPUS',
      teacher: 'TEACHER',
      teacherB: 'TEACHER_B',
      room: 'ROOM',
      inUse: 'ACTIVE',
    },
  },
  year_levels: {
    table: 'KCY',
    fields: {
      yearLevel: 'KCYKEY',
      description: 'DESCRIPTION',
      shortDescription: 'SHORT_DESC',
      teacher: 'TEACHER',
      nextYearLevel: 'NEXT_YR',
      finalYear: 'FINAL_YR',
    },
  },
  houses: {
    table: 'KGH',
    fields: { house: 'KGHKEY', description: 'DESCRIPTION', campus: 'CAMPUS', inUse: 'ACTIVE' },
  },
  subjects: {
    table: 'SU',
    fields: {
      subjectId: 'SUKEY',
      name: 'FULLNAME',
      shortName: 'SHORTNAME',
      faculty: 'FACULTY',
      yearLevel: 'SUBJECT_ACADEMIC_YEAR',
      semester: 'SEMESTER',
      subjectType: 'SUBJECT_TYPE',
      elective: 'ELECTIVE',
    },
  },
  classes: {
    table: 'SCL',
    fields: {
      classId: 'SCLKEY',
      quilt: 'QUILT',
      subjectId: 'SUBJECT',
      class: 'CLASS',
      teacher: 'TEACHER01',
      teacherB: 'TEACHER02',
      room: 'ROOM01',
      roomB: 'ROOM02',
      campus: 'CAMPUS',
    },
  },
  enrolments: {
    table: 'STMA',
    fields: {
      enrolmentId: 'TID',
      studentId: 'SKEY',
      subjectId: 'MKEY',
      class: 'CLASS',
      subjectName: 'FULLNAME',
      teacherName: 'TEACHER_NAME',
      yearLevel: 'SCHOOL_YEAR',
      timetablePeriod: 'TTPERIOD',
      year: 'CYEAR',
      dropout: 'DROPOUT',
    },
  },
  rooms: {
    table: 'SM',
    fields: {
      room: 'ROOM',
      title: 'TITLE',
      description: 'DESCRIPTION',
      seating: 'SEATING',
      roomType: 'ROOM_TYPE',
      faculty: 'FACULTY',
      campus: 'CAMPUS',
      staffId: 'STAFF_CODE',
    },
  },
  faculties: {
    table: 'KSF',
    fields: { faculty: 'KSFKEY', description: 'DESCRIPTION', coordinator: 'COORDINATOR' },
  },
  absences: {
    table: 'SXAB',
    fields: {
      absenceId: 'SXAB_ID',
      studentId: 'STKEY',
      yearLevel: 'ST_YEAR_LEVEL',
      date: 'ABSENCE_DATE',
      amAttended: 'AM_ATTENDED',
      amType: 'AM_ACT_TYPE',
      amApproved: 'AM_APPROVED',
      pmAttended: 'PM_ATTENDED',
      pmType: 'PM_ACT_TYPE',
      pmApproved: 'PM_APPROVED',
      comment: 'ABSENCE_COMMENT',
    },
  },
  campuses: {
    table: 'SCI',
    fields: {
      campusId: 'SCIKEY',
      name: 'CAMPUS_NAME',
      schoolName: 'SCHOOL_NAME',
      schoolLink: 'SCHOOL_LINK',
      adminSite: 'ADMIN_SITE',
      address: 'ADDRESS01',
      suburb: 'SUBURB',
      state: 'STATE',
      postcode: 'POSTCODE',
      phone: 'TELEPHONE',
      principal: 'SCH_PRINCIPAL',
    },
  },
};

/**
 * `current_students`: the `students` view's fields over the ST rows that are active in the mirror
 * and whose STATUS is one of these (CASES21: ACTV active, LVNG leaving; FUT future and LEFT left
 * are not current).
 */
export const CURRENT_STUDENTS = { name: 'current_students', table: 'ST', statuses: ['ACTV', 'LVNG'] } as const;

/**
 * `student_contacts`: one row per student and family the student is linked to. ST names up to
 * three families (DF): the prime family (FAMILY), an alternative one (FAMB) and an additional
 * contact family (FAMC), each with its own relationship of adults A and B to the student
 * (RELATION_x01, RELATION_x02), who receives correspondence (CONTACT_x), academic reports
 * (ACADEMIC_x) and how often the student lives there (LIVING_x).
 */
export const STUDENT_CONTACTS = {
  name: 'student_contacts',
  table: 'ST',
  families: 'DF',
  links: [
    { role: 'prime', family: 'FAMILY', letter: 'A' },
    { role: 'alternative', family: 'FAMB', letter: 'B' },
    { role: 'additional', family: 'FAMC', letter: 'C' },
  ],
  /** The student's own columns: field → ST column. */
  student: {
    studentId: 'STKEY',
    studentSurname: 'SURNAME',
    studentGivenNames: 'FIRST_NAME',
    homeGroup: 'HOME_GROUP',
    yearLevel: 'SCHOOL_YEAR',
    status: 'STATUS',
  },
  /** Per link: field → ST column with `x` standing for the link's letter. */
  link: {
    parentARelationship: 'RELATION_x01',
    parentBRelationship: 'RELATION_x02',
    correspondenceTo: 'CONTACT_x',
    academicReports: 'ACADEMIC_x',
    livingWith: 'LIVING_x',
  },
  /** The family's columns: field → DF column. */
  family: {
    parentATitle: 'TITLE_A',
    parentAGivenName: 'NAME_A',
    parentASurname: 'SURNAME_A',
    parentAEmail: 'E_MAIL_A',
    parentAMobile: 'MOBILE_A',
    parentBTitle: 'TITLE_B',
    parentBGivenName: 'NAME_B',
    parentBSurname: 'SURNAME_B',
    parentBEmail: 'E_MAIL_B',
    parentBMobile: 'MOBILE_B',
  },
} as const;

/** Every built-in view name with the CASES table it belongs to: a user's view may not take one of another table. */
export const BUILTIN_VIEW_TABLES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(BUILTIN_VIEWS).map(([name, def]) => [name, def.table])),
  [CURRENT_STUDENTS.name]: CURRENT_STUDENTS.table,
  [STUDENT_CONTACTS.name]: STUDENT_CONTACTS.table,
};
